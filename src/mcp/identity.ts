import { type ClientConfig, findMesh, loadConfig, type MeshConfig } from "../client/config.ts";
import { generateSigningKeyPair, type KeyPair } from "../crypto/keys.ts";
import { type GroupMembership, parseGroupSpec } from "../protocol/common.ts";
import { SESSION_ENV } from "../session/paths.ts";
import { readSessionInfo } from "../session/session-dir.ts";
import { NotFoundError } from "../util/errors.ts";

/** Who this `claudemesh mcp` process is on the mesh. */
export interface McpIdentity {
  mesh: MeshConfig;
  session: KeyPair;
  displayName: string;
  role: string | null;
  groups: GroupMembership[];
  /** The launched session's private dir; null when running without `claudemesh launch`. */
  sessionDir: string | null;
  /** `launch --broker` / `mcp --broker`: the one broker URL this session uses, never failing over */
  pin?: string;
}

/** Env var that picks the mesh when `claudemesh mcp` runs without a session dir. */
export const MESH_ENV = "CLAUDEMESH_MESH";

/**
 * Without a session dir (installed globally, plain `claude`): `$CLAUDEMESH_MESH`, else the only joined
 * mesh, else the one named `default`, else the first joined.
 */
export function defaultMesh(config: ClientConfig, env: NodeJS.ProcessEnv): MeshConfig {
  const wanted = env[MESH_ENV];
  if (wanted) return findMesh(config, wanted);
  const first = config.meshes[0];
  if (!first) throw new NotFoundError("this machine has not joined any mesh yet: run `claudemesh join <invite-url>`");
  return config.meshes.find((m) => m.slug === "default") ?? first;
}

export function resolveIdentity(env: NodeJS.ProcessEnv = process.env, opts: { pin?: string } = {}): McpIdentity {
  const config = loadConfig();
  const dir = env[SESSION_ENV];
  if (dir) {
    const info = readSessionInfo(dir);
    const pin = opts.pin ?? info.broker;
    return {
      ...(pin !== undefined ? { pin } : {}),
      mesh: findMesh(config, info.meshSlug),
      session: info.sessionKey,
      displayName: info.displayName,
      role: info.role,
      groups: parseGroupSpec(info.groups),
      sessionDir: dir,
    };
  }
  const mesh = defaultMesh(config, env);
  // A fresh identity per process: two plain `claude` sessions of one member are still distinct peers.
  return {
    mesh,
    session: generateSigningKeyPair(),
    displayName: mesh.displayName,
    role: null,
    groups: [],
    sessionDir: null,
    ...(opts.pin !== undefined ? { pin: opts.pin } : {}),
  };
}
