import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { saveConfig } from "../../src/client/config.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { resolveIdentity } from "../../src/mcp/identity.ts";
import { writeSessionInfo } from "../../src/session/session-dir.ts";
import { ensurePrivateDir } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";

const home = tempDir("cm-identity-");
const previousHome = process.env.CLAUDEMESH_HOME;
afterAll(() => {
  // every test file shares this process: leave the environment as found
  if (previousHome === undefined) delete process.env.CLAUDEMESH_HOME;
  else process.env.CLAUDEMESH_HOME = previousHome;
  home.cleanup();
});

const mesh = (slug: string, displayName: string) => ({
  slug,
  meshId: `mesh_${slug}`,
  brokerUrl: "http://127.0.0.1:1",
  memberId: `mbr_${slug}`,
  displayName,
  role: "member",
  ...(({ publicKey, secretKey }) => ({ pubkey: publicKey, secretKey }))(generateSigningKeyPair()),
  rootKey: null,
  joinedAt: 0,
});

test("session dir → the launched identity; unset or empty (user-scope server, nested claude) → default mesh, fresh key", () => {
  process.env.CLAUDEMESH_HOME = home.path;
  saveConfig({ version: 1, meshes: [mesh("team", "Dana"), mesh("default", "Dana-d")] });
  const dir = join(home.path, "s1");
  ensurePrivateDir(dir);
  const key = generateSigningKeyPair();
  writeSessionInfo(dir, { version: 1, meshSlug: "team", displayName: "Alice", role: "dev", groups: "fe:lead", sessionKey: key, createdAt: 0, launcherPid: 1 });

  const launched = resolveIdentity({ CLAUDEMESH_SESSION_DIR: dir });
  expect(launched).toMatchObject({ displayName: "Alice", role: "dev", groups: [{ name: "fe", role: "lead" }], sessionDir: dir, session: key });
  expect(launched.mesh.slug).toBe("team");

  for (const env of [{}, { CLAUDEMESH_SESSION_DIR: "" }]) {
    const plain = resolveIdentity(env);
    expect(plain).toMatchObject({ displayName: "Dana-d", sessionDir: null, role: null, groups: [] });
    expect(plain.mesh.slug).toBe("default");
    expect(plain.session.publicKey).not.toBe(key.publicKey);
  }
  expect(resolveIdentity({ CLAUDEMESH_MESH: "team" }).mesh.slug).toBe("team");
});

test("a session launched with --broker is pinned to it; `mcp --broker` pins a plain session; without either, none is", () => {
  process.env.CLAUDEMESH_HOME = home.path;
  saveConfig({ version: 1, meshes: [mesh("team", "Dana")] });
  const dir = join(home.path, "s-pinned");
  ensurePrivateDir(dir);
  const info = {
    version: 1 as const,
    meshSlug: "team",
    displayName: "P",
    role: null,
    groups: "",
    sessionKey: generateSigningKeyPair(),
    createdAt: 0,
    launcherPid: 1,
  };
  writeSessionInfo(dir, { ...info, broker: "http://10.0.0.2:7900" });
  expect(resolveIdentity({ CLAUDEMESH_SESSION_DIR: dir }).pin).toBe("http://10.0.0.2:7900");
  expect(resolveIdentity({ CLAUDEMESH_SESSION_DIR: dir }, { pin: "http://10.0.0.3:7900" }).pin).toBe("http://10.0.0.3:7900");
  expect(resolveIdentity({}, { pin: "http://10.0.0.3:7900" }).pin).toBe("http://10.0.0.3:7900");
  writeSessionInfo(dir, info);
  expect(resolveIdentity({ CLAUDEMESH_SESSION_DIR: dir }).pin).toBeUndefined();
  expect(resolveIdentity({}).pin).toBeUndefined();
});
