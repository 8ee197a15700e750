import type { HandlerContext } from "../broker/feature.ts";
import type { PeerState } from "../broker/peer.ts";
import { helloSigningString, verify } from "../crypto/keys.ts";
import type { ClientFrameOf } from "../protocol/frames.ts";
import { AppError } from "../util/errors.ts";
import { newId } from "../util/ids.ts";

/**
 * Authenticates a session. Checks run in an order that never tells an unauthenticated caller more than
 * it proves: signatures are checked before revocation is disclosed.
 */
export async function handleHello(ctx: HandlerContext, f: ClientFrameOf<"hello">): Promise<void> {
  const { broker, conn } = ctx;
  const mesh = await broker.repo.meshById(f.meshId);
  if (!mesh) throw new AppError("unknown_mesh", `no mesh with id ${f.meshId}`);
  const member = await broker.repo.memberById(f.memberId);
  if (!member) throw new AppError("unknown_member", `no member with id ${f.memberId}`);
  if (member.meshId !== mesh.id) throw new AppError("wrong_mesh", "this member does not belong to that mesh");
  const signed = helloSigningString(f);
  if (member.pubkey !== f.pubkey || !verify(signed, f.signature, member.pubkey)) {
    throw new AppError("bad_member_signature", "hello signature does not verify against the member's key");
  }
  if (!verify(signed, f.sessionSignature, f.sessionPubkey)) {
    throw new AppError("bad_session_signature", "hello session signature does not verify against the session key");
  }
  const skew = Math.abs(Date.now() - f.timestamp);
  if (skew > broker.limits.skewMs) {
    throw new AppError("stale_timestamp", `hello timestamp is ${Math.round(skew / 1000)}s off the broker clock (allowed ±${broker.limits.skewMs / 1000}s)`);
  }
  if (member.revokedAt !== null) throw new AppError("member_revoked", "this member has been revoked from the mesh");

  const now = Date.now();
  const peer: PeerState = {
    presenceId: newId("prs"),
    meshId: mesh.id,
    meshSlug: mesh.slug,
    memberId: member.id,
    memberName: member.displayName,
    memberRole: member.role,
    displayName: f.displayName ?? member.displayName,
    role: f.role ?? null,
    groups: new Map((f.groups ?? []).map((g) => [g.name, g.role])),
    status: f.status ?? "idle",
    summary: null,
    sessionPubkey: f.sessionPubkey,
    pid: f.pid ?? null,
    cwd: f.cwd ?? null,
    connectedAt: now,
    conn,
  };
  if (conn.closed) return;
  await broker.register(peer);
  await broker.repo.recordPresence({ ...peer, id: peer.presenceId });
  const { token, expiresAt } = broker.issueToken(peer);
  ctx.reply({
    type: "hello_ack",
    presenceId: peer.presenceId,
    meshId: mesh.id,
    meshSlug: mesh.slug,
    memberId: member.id,
    memberDisplayName: member.displayName,
    displayName: peer.displayName,
    token,
    tokenExpiresAt: expiresAt,
    serverTime: now,
  });
  await broker.peerConnected(peer);
}
