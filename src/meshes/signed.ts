import { requestSigningString, verify } from "../crypto/keys.ts";
import { WireError } from "../protocol/wire-error.ts";
import { SIGNED_HEADERS } from "../protocol/http-headers.ts";
import type { Clock } from "../util/clock.ts";
import { sha256Hex } from "../util/ids.ts";
import type { Member } from "./model.ts";
import type { MeshRepo } from "./repo.ts";

/**
 * Verifies a member-signed request: the member id header is only trusted once the signature over
 * method, path, timestamp and body hash verifies against that member's stored key.
 */
export async function signedMember(req: Request, bodyText: string, repo: MeshRepo, skewMs: number, clock: Clock): Promise<Member | null> {
  const memberId = req.headers.get(SIGNED_HEADERS.member);
  const ts = Number(req.headers.get(SIGNED_HEADERS.timestamp));
  const sig = req.headers.get(SIGNED_HEADERS.signature);
  if (!memberId || !sig || !Number.isFinite(ts)) return null;
  const member = await repo.memberById(memberId);
  if (!member) throw new WireError("unknown_member", "unknown member", 401);
  const url = new URL(req.url);
  const signed = requestSigningString({ method: req.method, path: url.pathname + url.search, timestamp: ts, bodySha256: sha256Hex(bodyText) });
  if (!verify(signed, sig, member.pubkey)) throw new WireError("bad_member_signature", "request signature does not verify", 401);
  if (Math.abs(clock.now() - ts) > skewMs) throw new WireError("stale_timestamp", "request timestamp is outside the allowed skew", 401);
  if (member.revokedAt !== null) throw new WireError("member_revoked", "this member has been revoked", 403);
  return member;
}
