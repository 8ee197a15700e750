import { requestSigningString, verify } from "../crypto/keys.ts";
import { WireError } from "../protocol/wire-error.ts";
import { SIGNED_HEADERS } from "../protocol/http-headers.ts";
import type { Clock } from "../util/clock.ts";
import { sha256Hex } from "../util/ids.ts";
import type { Member } from "./model.ts";
import type { MeshRepo } from "./repo.ts";

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * Verifies a member-signed request: the member id header is only trusted once the signature over
 * method, path, timestamp, nonce and body hash verifies against that member's stored key.
 */
export async function signedMember(req: Request, bodyText: string, repo: MeshRepo, skewMs: number, clock: Clock): Promise<Member | null> {
  const memberId = req.headers.get(SIGNED_HEADERS.member);
  const ts = Number(req.headers.get(SIGNED_HEADERS.timestamp));
  const sig = req.headers.get(SIGNED_HEADERS.signature);
  const nonce = req.headers.get(SIGNED_HEADERS.nonce);
  if (!memberId || !sig || !Number.isFinite(ts)) return null;
  if (memberId.length > 128) throw new WireError("unknown_member", "unknown member", 401);
  if (!nonce || !NONCE.test(nonce))
    throw new WireError("unauthorized", `a signed request needs a ${SIGNED_HEADERS.nonce} header (16-64 base64url characters)`, 401);
  const member = await repo.memberById(memberId);
  if (!member) throw new WireError("unknown_member", "unknown member", 401);
  const url = new URL(req.url);
  const signed = requestSigningString({ method: req.method, path: url.pathname + url.search, timestamp: ts, nonce, bodySha256: sha256Hex(bodyText) });
  if (!verify(signed, sig, member.pubkey)) throw new WireError("bad_member_signature", "request signature does not verify", 401);
  if (Math.abs(clock.now() - ts) > skewMs) throw new WireError("stale_timestamp", "request timestamp is outside the allowed skew", 401);
  // Recorded only once the signature verified, so nobody but the member can fill the table; kept as long
  // as the timestamp could still pass the skew check, in the store so every broker of one database agrees.
  if (!(await repo.useNonce(member.id, nonce, ts + skewMs))) {
    throw new WireError("replayed_request", "this signed request was already received; sign every request afresh", 401);
  }
  if (member.revokedAt !== null) throw new WireError("member_revoked", "this member has been revoked", 403);
  return member;
}
