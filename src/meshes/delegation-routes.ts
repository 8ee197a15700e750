import type { FeatureHost, Routes } from "../broker/host.ts";
import type { PeerState } from "../broker/peer.ts";
import { readText, reply } from "../broker/http.ts";
import { CLOSE } from "../protocol/close-codes.ts";
import type { ErrorCode } from "../protocol/errors.ts";
import { WireError } from "../protocol/wire-error.ts";
import { DelegationRequest, DelegationResponse, RevokeDelegationsResponse } from "./api.ts";
import { checkNewDelegation, type DelegationRepo } from "./delegation.ts";
import { param, parse } from "./http.ts";
import type { Member } from "./model.ts";
import type { MeshRepo } from "./repo.ts";
import { signedMember } from "./signed.ts";

export interface DelegationRoutesDeps {
  host: FeatureHost;
  repo: MeshRepo;
  delegations: DelegationRepo;
}

const MAX_BODY = 4096;

/** Ends a live delegated session: the page hears why, then the socket closes as a revoked one does. */
export function endDelegatedSession(peer: PeerState, code: ErrorCode, message: string): void {
  peer.conn.send({ type: "error", code, message });
  peer.conn.close(CLOSE.revoked, code);
}

/** Registering and revoking delegations: only the member itself, by a request signed with its key. */
export function delegationRoutes({ host, repo, delegations }: DelegationRoutesDeps): Routes {
  async function memberOf(req: Request & { params: Record<string, string> }, text: string): Promise<Member> {
    const meshId = param(req, "meshId");
    const member = await signedMember(req, text, repo, host.limits.skewMs, host.clock);
    if (!member) throw new WireError("unauthorized", "sign the request with your member key (run `claudemesh dashboard`)", 401);
    if (member.meshId !== meshId) throw new WireError("wrong_mesh", "you are not a member of this mesh", 403);
    return member;
  }
  return {
    "/meshes/:meshId/delegations": {
      POST: async (req) => {
        const text = await readText(req, MAX_BODY);
        const member = await memberOf(req, text);
        const body = parse(text, DelegationRequest);
        const now = host.clock.now();
        checkNewDelegation(member, body, now);
        const d = await delegations.add({ meshId: member.meshId, memberId: member.id, ...body, createdAt: now });
        if (!d) throw new WireError("invalid_argument", "this session key is already delegated; make a fresh one");
        return reply(DelegationResponse, { id: d.id, expiresAt: d.expiresAt }, 201);
      },
    },
    "/meshes/:meshId/delegations/revoke": {
      POST: async (req) => {
        const member = await memberOf(req, await readText(req, MAX_BODY));
        const ended = new Set(await delegations.revokeAll(member.meshId, member.id, host.clock.now()));
        let disconnected = 0;
        // The mesh-wide view: a session on another broker node is closed there, by its mirror's conn.
        for (const peer of host.peers.peersOf(member.meshId)) {
          if (peer.memberId !== member.id || !ended.has(peer.sessionPubkey)) continue;
          endDelegatedSession(peer, "delegation_revoked", "the member revoked this session's delegation");
          disconnected++;
        }
        return reply(RevokeDelegationsResponse, { revoked: ended.size, disconnected });
      },
    },
  };
}
