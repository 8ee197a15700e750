import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { Base64Key, BrokerUrl } from "../protocol/common.ts";
import { ConfigError, NotFoundError, InvalidArgument } from "../util/errors.ts";
import { writeSecretFile } from "../util/fs.ts";
import { claudemeshHome } from "../util/home.ts";

const trimUrl = (u: string) => u.replace(/\/+$/, "");

const MeshConfigFields = z.object({
  slug: z.string(),
  meshId: z.string(),
  /** the URL the mesh was joined through (an invite's, maybe a load balancer's): HTTP commands use it, sessions try it first */
  brokerUrl: z.string().url(),
  /**
   * every broker URL of the mesh this machine knows, `brokerUrl` first: sessions fail over along it. Read
   * through `meshBrokers`: a mesh built in code without it has just `brokerUrl`.
   */
  brokers: z.array(BrokerUrl).min(1).max(64).optional(),
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

/** A config written before #14 has only `brokerUrl`: read as a list of that one URL (saved so at the next write). */
export const MeshConfig = z.preprocess((raw) => {
  if (raw === null || typeof raw !== "object" || "brokers" in raw || !("brokerUrl" in raw)) return raw;
  const url = BrokerUrl.safeParse(raw.brokerUrl);
  return url.success ? { ...raw, brokers: [trimUrl(url.data)] } : raw;
}, MeshConfigFields);
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

/** `brokerUrl` first, then `urls` in their order; each once (trailing slashes aside). */
export function brokerList(brokerUrl: string, urls: readonly string[]): string[] {
  return [...new Set([brokerUrl, ...urls].map(trimUrl))];
}

/** `--broker <url>` checked: the one broker a pinned session uses. */
export function brokerPin(raw: string): string {
  const url = BrokerUrl.safeParse(raw.trim());
  if (!url.success) throw new InvalidArgument(`--broker must be a broker's http:// or https:// URL, not ${JSON.stringify(raw)}`);
  return trimUrl(url.data);
}

/** The broker URLs a session of this mesh may use, in the order it tries them. */
export const meshBrokers = (mesh: Pick<MeshConfig, "brokerUrl" | "brokers">): string[] => brokerList(mesh.brokerUrl, mesh.brokers ?? []);

/**
 * Records the broker URLs a broker named (hello_ack, /healthz) for a joined mesh: re-read and written at
 * once, so a concurrent writer's other meshes survive. Returns whether the file changed.
 */
export function rememberBrokers(meshId: string, urls: readonly string[]): boolean {
  const config = loadConfig();
  const mesh = config.meshes.find((m) => m.meshId === meshId);
  if (!mesh) return false;
  const known = meshBrokers(mesh);
  const brokers = brokerList(mesh.brokerUrl, urls);
  if (brokers.length === known.length && brokers.every((u, i) => u === known[i])) return false;
  saveConfig(upsertMesh(config, { ...mesh, brokers }));
  return true;
}

export function upsertMesh(config: ClientConfig, mesh: MeshConfig): ClientConfig {
  const others = config.meshes.filter((m) => m.slug !== mesh.slug && m.meshId !== mesh.meshId);
  return { ...config, meshes: [...others, mesh] };
}
