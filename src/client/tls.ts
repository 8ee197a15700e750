import { readFileSync } from "node:fs";
import { readEnv } from "../util/env.ts";
import { ConfigError } from "../util/errors.ts";

/**
 * The CA that vouches for a broker with a private certificate: the mesh's own (`join --ca`, kept in its
 * config) or CLAUDEMESH_CA. Without one, Bun verifies against the system's roots, as it always does;
 * verification is never turned off.
 */
export function caFileFor(caFile?: string): string | undefined {
  return caFile ?? (readEnv().CLAUDEMESH_CA || undefined);
}

const cache = new Map<string, string>();

/** `{ tls: { ca } }` for Bun's fetch and WebSocket when a CA applies, else nothing. */
export function tlsOptions(caFile?: string): { tls?: { ca: string } } {
  const file = caFileFor(caFile);
  if (!file) return {};
  let ca = cache.get(file);
  if (ca === undefined) {
    try {
      ca = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`cannot read the CA certificate ${file} (from --ca or CLAUDEMESH_CA): ${(err as Error).message}`);
    }
    cache.set(file, ca);
  }
  return { tls: { ca } };
}

/** Bun's WebSocket takes `{ tls }` as its second argument; the DOM typing in scope only knows protocols. */
export function openWebSocket(url: string, caFile?: string): WebSocket {
  const BunWebSocket = WebSocket as unknown as new (url: string, options: { tls?: { ca: string } }) => WebSocket;
  return new BunWebSocket(url, tlsOptions(caFile));
}
