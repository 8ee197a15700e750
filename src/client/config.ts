import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { Base64Key } from "../protocol/common.ts";
import { ConfigError, NotFoundError, InvalidArgument } from "../util/errors.ts";
import { writeSecretFile } from "../util/fs.ts";
import { claudemeshHome } from "../util/home.ts";

export const MeshConfig = z.object({
  slug: z.string(),
  meshId: z.string(),
  brokerUrl: z.string().url(),
  memberId: z.string(),
  displayName: z.string(),
  role: z.string(),
  pubkey: Base64Key,
  secretKey: z.string(),
  /** mesh root key, base64url, from the invite URL's fragment; null if the invite carried none */
  rootKey: z.string().nullable(),
  joinedAt: z.number(),
  /** CA certificate (PEM file) that vouches for this broker's TLS certificate, from `join --ca` */
  caFile: z.string().optional(),
});
export type MeshConfig = z.infer<typeof MeshConfig>;

export const ClientConfig = z.object({
  version: z.literal(1),
  meshes: z.array(MeshConfig),
});
export type ClientConfig = z.infer<typeof ClientConfig>;

export const configPath = () => join(claudemeshHome(), "config.json");

export function loadConfig(): ClientConfig {
  const file = configPath();
  if (!existsSync(file)) return { version: 1, meshes: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new ConfigError(`${file} is not valid JSON; fix or remove it`);
  }
  const parsed = ClientConfig.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${file} is not a claudemesh config: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Config holds secret keys: always 0600 in a 0700 directory. */
export function saveConfig(config: ClientConfig): void {
  writeSecretFile(configPath(), JSON.stringify(config, null, 2) + "\n");
}

export function findMesh(config: ClientConfig, slug?: string): MeshConfig {
  if (slug === undefined) {
    if (config.meshes.length === 1) return config.meshes[0] as MeshConfig;
    if (config.meshes.length === 0) throw new NotFoundError("you have not joined any mesh yet: run `claudemesh join <invite-url>`");
    throw new InvalidArgument(`you are in several meshes; pick one with --mesh (${config.meshes.map((m) => m.slug).join(", ")})`);
  }
  const m = config.meshes.find((x) => x.slug === slug || x.meshId === slug);
  if (!m) throw new NotFoundError(`you have not joined a mesh named "${slug}" (joined: ${config.meshes.map((x) => x.slug).join(", ") || "none"})`);
  return m;
}

export function upsertMesh(config: ClientConfig, mesh: MeshConfig): ClientConfig {
  const others = config.meshes.filter((m) => m.slug !== mesh.slug && m.meshId !== mesh.meshId);
  return { ...config, meshes: [...others, mesh] };
}
