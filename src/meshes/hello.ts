import type { FeatureHost, HandlerContext } from "../broker/host.ts";
import type { PeerState } from "../broker/peer.ts";
import type { KeyedRateLimiter } from "../broker/rate.ts";
import { helloSigningString, verifyAsync } from "../crypto/keys.ts";
import { type DelegationRepo, delegationInForce, verifyMemberProof } from "./delegation.ts";
import { WireError } from "../protocol/wire-error.ts";
import type { ClientFrameOf } from "../protocol/frames.ts";
import { newId } from "../util/ids.ts";
import type { GroupCommit } from "../store/group-commit.ts";
import type { MeshRepo, PresenceOp } from "./repo.ts";
import type { TokenBook } from "./tokens.ts";

export interface HelloDeps {
  host: FeatureHost;
  repo: MeshRepo;
  tokens: TokenBook;
  /** hellos per member, charged once the member signature verifies */
  hellos: KeyedRateLimiter;
  /** the broker node this session lives on */
  nodeId: string;
  /** presence rows, written in batches */
  presence: GroupCommit<PresenceOp, void>;
  delegations: DelegationRepo;
  /** live delegated sessions by presence id, with their delegation's expiry (the sweep ends them) */
  delegated: Map<string, { peer: PeerState; expiresAt: number }>;
  /** the live broker nodes' public URLs (the client's failover list) */
  brokers: () => string[];
}

/**
 * Authenticates a session. Checks run in an order that never tells an unauthenticated caller more than
 * it proves: signatures are checked before revocation is disclosed.
 */
export async function handleHello(
  { host, repo, tokens, hellos, nodeId, presence, delegations, delegated, brokers }: HelloDeps,
  ctx: HandlerContext,
  f: ClientFrameOf<"hello">,
): Promise<void> {
  const { conn } = ctx;
  // A hello captured on another socket carries that socket's challenge: refused before any lookup.
  if (f.challenge !== conn.challenge) throw new WireError("bad_challenge", "this hello was not signed for this connection's challenge");
  const { mesh, member } = await repo.meshAndMember(f.meshId, f.memberId);
  if (!mesh) throw new WireError("unknown_mesh", `no mesh with id ${f.meshId}`);
  if (!member) throw new WireError("unknown_member", `no member with id ${f.memberId}`);
  if (member.meshId !== mesh.id) throw new WireError("wrong_mesh", "this member does not belong to that mesh");
  const signed = helloSigningString(f);
  // Both signatures are checked at once, off the event loop; their verdicts are read in the order that
  // decides which refusal a bad hello gets. Neither promise rejects for a bad signature (a WireError does).
  const memberProof = verifyMemberProof(member, f, signed);
  const sessionProof = verifyAsync(signed, f.sessionSignature, f.sessionPubkey);
  await memberProof;
  const wait = hellos.take(member.id);
  if (wait > 0) return ctx.refuse(new WireError("rate_limited", `too many hellos for this member; retry in ${wait} ms`, 429, wait));
  if (!(await sessionProof)) {
    throw new WireError("bad_session_signature", "hello session signature does not verify against the session key");
  }
  const skew = Math.abs(host.clock.now() - f.timestamp);
  if (skew > host.limits.skewMs) {
    throw new WireError("stale_timestamp", `hello timestamp is ${Math.round(skew / 1000)}s off the broker clock (allowed ±${host.limits.skewMs / 1000}s)`);
  }
  if (member.revokedAt !== null) throw new WireError("member_revoked", "this member has been revoked from the mesh");
  const delegatedUntil = await delegationInForce(delegations, f, host.clock.now());

  const now = host.clock.now();
  const peer: PeerState = {
    presenceId: newId("prs"),
    meshId: mesh.id,
    memberId: member.id,
    memberName: member.displayName,
    displayName: f.displayName ?? member.displayName,
    role: f.role ?? null,
    groups: new Map((f.groups ?? []).map((g) => [g.name, g.role])),
    status: f.status ?? "idle",
    summary: null,
    sessionPubkey: f.sessionPubkey,
    connectedAt: now,
    conn,
  };
  if (conn.closed) return;
  // Checked with no await before register, so two members cannot both claim one free name. Sessions of
  // one member may share a name (one person, several terminals).
  if (host.peers.named(mesh.id, peer.displayName).some((p) => p.memberId !== member.id)) {
    throw new WireError("name_taken", `the name "${peer.displayName}" is in use by a session of another member; pick another name`);
  }
  await host.peers.register(peer);
  if (delegatedUntil !== null) delegated.set(peer.presenceId, { peer, expiresAt: delegatedUntil });
  // The presence row is history, read by nothing on the way: the hello does not wait for its commit. A
  // disconnect's close joins the same ordered batches (opens first), so the row is there before it ends.
  presence
    .add({ kind: "open", row: { ...peer, id: peer.presenceId, nodeId } })
    .catch((err) => host.log.warn("could not record a session's presence", { err: String(err) }));
  const { token, expiresAt } = tokens.issue(peer);
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
    brokers: brokers(),
  });
  await host.peers.connected(peer);
}
