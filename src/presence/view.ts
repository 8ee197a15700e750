import type { PeerState } from "../broker/peer.ts";
import type { Peer } from "./frames.ts";

export function toPeerView(p: PeerState, self: PeerState): Peer {
  return {
    name: p.displayName,
    status: p.status,
    role: p.role,
    groups: [...p.groups].map(([name, role]) => ({ name, role })),
    summary: p.summary,
    sessionPubkey: p.sessionPubkey,
    memberId: p.memberId,
    memberName: p.memberName,
    presenceId: p.presenceId,
    connectedAt: p.connectedAt,
    self: p === self,
  };
}
