import { timingSafeEqual } from "node:crypto";
import { requestSigningString, verify } from "../crypto/keys.ts";
import type { Member } from "../meshes/repo.ts";
import { SIGNED_HEADERS } from "../protocol/http-headers.ts";
import { AppError } from "../util/errors.ts";
import { sha256Hex } from "../util/ids.ts";
import type { Broker, BearerGrant } from "./broker.ts";

export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

export function errorResponse(err: unknown): Response {
  if (err instanceof AppError) return json({ error: { code: err.code, message: err.message } }, err.httpStatus);
  return json({ error: { code: "internal", message: "internal error" } }, 500);
}

/** Reads a JSON body with a size cap; a bad body is a structured 400, never a crash. */
export async function readJson(req: Request, maxBytes: number): Promise<{ value: unknown; text: string }> {
  if (Number(req.headers.get("content-length") ?? 0) > maxBytes) throw new AppError("frame_too_large", `body exceeds ${maxBytes} bytes`, 413);
  const text = await req.text();
  if (Buffer.byteLength(text) > maxBytes) throw new AppError("frame_too_large", `body exceeds ${maxBytes} bytes`, 413);
  if (text === "") return { value: {}, text };
  try {
    return { value: JSON.parse(text), text };
  } catch {
    throw new AppError("bad_json", "body is not valid JSON");
  }
}

function bearer(req: Request): string | null {
  const h = req.headers.get("authorization");
  const m = h?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1] ?? null;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function isAdminToken(req: Request, adminToken: string): boolean {
  const t = bearer(req);
  return t !== null && safeEqual(t, adminToken);
}

/** The session bearer token from hello_ack. */
export function sessionGrant(req: Request, broker: Broker): BearerGrant | null {
  const t = bearer(req);
  return t ? broker.grant(t) : null;
}

/**
 * Verifies a member-signed request: the member id header is only trusted once the signature over
 * method, path, timestamp and body hash verifies against that member's stored key.
 */
export async function signedMember(req: Request, bodyText: string, broker: Broker): Promise<Member | null> {
  const memberId = req.headers.get(SIGNED_HEADERS.member);
  const ts = Number(req.headers.get(SIGNED_HEADERS.timestamp));
  const sig = req.headers.get(SIGNED_HEADERS.signature);
  if (!memberId || !sig || !Number.isFinite(ts)) return null;
  const member = await broker.repo.memberById(memberId);
  if (!member) throw new AppError("unknown_member", "unknown member", 401);
  const url = new URL(req.url);
  const signed = requestSigningString({ method: req.method, path: url.pathname + url.search, timestamp: ts, bodySha256: sha256Hex(bodyText) });
  if (!verify(signed, sig, member.pubkey)) throw new AppError("bad_member_signature", "request signature does not verify", 401);
  if (Math.abs(Date.now() - ts) > broker.limits.skewMs) throw new AppError("stale_timestamp", "request timestamp is outside the allowed skew", 401);
  if (member.revokedAt !== null) throw new AppError("member_revoked", "this member has been revoked", 403);
  return member;
}
