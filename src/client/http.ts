import type { z } from "zod";
import { requestSigningString, sign } from "../crypto/keys.ts";
import { parseWire } from "../protocol/codec.ts";
import { HttpErrorBody } from "../protocol/errors.ts";
import { WireError } from "../protocol/wire-error.ts";
import { SIGNED_HEADERS } from "../protocol/http-headers.ts";
import { BrokerUnreachable, UnexpectedAnswer } from "../util/errors.ts";
import { newSecret, sha256Hex } from "../util/ids.ts";
import type { MeshConfig } from "./config.ts";
import { tlsOptions } from "./tls.ts";

export type Auth = { kind: "admin"; token: string } | { kind: "member"; mesh: Pick<MeshConfig, "memberId" | "secretKey" | "caFile"> } | { kind: "none" };

/** Calls a broker HTTP route and parses the answer with `schema`; broker errors become WireErrors with their code. */
export async function brokerRequest<S extends z.ZodType>(
  brokerUrl: string,
  method: string,
  path: string,
  schema: S,
  /** `caFile`: the CA of a broker with a private certificate (a member's own mesh config says it too). */
  opts: { body?: unknown; auth?: Auth; timeoutMs?: number; caFile?: string } = {},
): Promise<z.infer<S>> {
  const text = opts.body === undefined ? "" : JSON.stringify(opts.body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const auth = opts.auth ?? { kind: "none" };
  if (auth.kind === "admin") headers.authorization = `Bearer ${auth.token}`;
  if (auth.kind === "member") {
    const timestamp = Date.now();
    const nonce = newSecret();
    const signed = requestSigningString({ method, path, timestamp, nonce, bodySha256: sha256Hex(text) });
    headers[SIGNED_HEADERS.nonce] = nonce;
    headers[SIGNED_HEADERS.member] = auth.mesh.memberId;
    headers[SIGNED_HEADERS.timestamp] = String(timestamp);
    headers[SIGNED_HEADERS.signature] = sign(signed, auth.mesh.secretKey);
  }
  let res: Response;
  try {
    res = await fetch(brokerUrl.replace(/\/+$/, "") + path, {
      method,
      headers,
      body: method === "GET" ? undefined : text,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      ...tlsOptions(opts.caFile ?? (auth.kind === "member" ? auth.mesh.caFile : undefined)),
    });
  } catch (err) {
    throw new BrokerUnreachable(`cannot reach the broker at ${brokerUrl}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const body = parseWire(HttpErrorBody, json);
    if (!body.ok) throw new UnexpectedAnswer(`broker answered HTTP ${res.status} for ${method} ${path}`);
    throw new WireError(body.data.error.code, body.data.error.message ?? `broker answered HTTP ${res.status}`, res.status);
  }
  const parsed = parseWire(schema, json);
  if (!parsed.ok) throw new UnexpectedAnswer(`unexpected answer from the broker for ${method} ${path}`);
  return parsed.data;
}
