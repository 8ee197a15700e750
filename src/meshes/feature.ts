import type { FeatureFactory, HandlerContext } from "../broker/host.ts";
import { errorResponse, isAdminToken, reply, sessionGrant } from "../broker/http.ts";
import { KeyedRateLimiter } from "../broker/rate.ts";
import { WireError } from "../protocol/wire-error.ts";
import { NODE_DEAD, NodeDead } from "../nodes/api.ts";
import { SessionResponse } from "./api.ts";
import { liveBrokers } from "./broker-list.ts";
import { handleHello } from "./hello.ts";
import { HelloGate } from "./hello-gate.ts";
import { meshRoutes } from "./http.ts";
import { GroupCommit } from "../store/group-commit.ts";
import { MeshRepo, type PresenceOp } from "./repo.ts";
import { delegationMigration, meshesMigration, presenceNodeMigration, requestNonceMigration } from "./schema.ts";
import { DelegationRepo } from "./delegation.ts";
import { delegationRoutes, endDelegatedSession } from "./delegation-routes.ts";
import type { PeerState } from "../broker/peer.ts";
import { signedMember } from "./signed.ts";
import { TokenBook } from "./tokens.ts";

export interface MeshesOptions {
  /** The operator's token: may create meshes and administer every mesh. */
  adminToken: string;
  /** the quick-start mesh's root key, for the operator's lookup route */
  quickStartRootKey?: (meshId: string) => string | null;
  /** the broker node this process is: presence rows carry it */
  nodeId: string;
}

/** how often, at most, a storm's presence rows are committed */
const PRESENCE_COMMIT_MS = 25;

/**
 * Meshes, members, invites and authentication: hello, presence records and the session bearer tokens
 * other features' HTTP routes check through `host.auth`.
 */
export const meshesFeature =
  ({ adminToken, quickStartRootKey, nodeId }: MeshesOptions): FeatureFactory =>
  (host) => {
    const repo = new MeshRepo(host.store, host.clock);
    const tokens = new TokenBook(host.limits.tokenTtlMs, host.clock);
    // Presence rows are a history nothing reads back at once: in a connect or disconnect storm they are
    // written at most every PRESENCE_COMMIT_MS, hundreds a commit, instead of a commit (an fsync on the
    // broker's thread) for every few hellos.
    const presence = new GroupCommit<PresenceOp, void>(
      async (ops) => {
        await repo.writePresence(ops);
        return ops.map(() => ({ ok: true, value: undefined }));
      },
      500,
      undefined,
      PRESENCE_COMMIT_MS,
    );
    // Two budgets. `hellos` is the member's, charged once its signature verifies, so only the key holder
    // spends it: knowing a member id does not let a forger lock that member out. `tries` is charged before
    // any verification and keyed by member AND address, so a flood of hellos is refused cheaply while a
    // forger elsewhere spends only its own address's share.
    const hellos = new KeyedRateLimiter(host.limits.helloRatePerMember);
    const tries = new KeyedRateLimiter(host.limits.helloRatePerMember);
    // The node's own budget, checked first and costing nothing: in a reconnect storm the sessions wait
    // in their clients for the slot they were given, not as a queue of half-done hellos here.
    const gate = new HelloGate(host.limits.maxPendingHellos);
    const delegations = new DelegationRepo(host.store);
    const delegated = new Map<string, { peer: PeerState; expiresAt: number }>();
    // subscribed while the features are built, before the nodes feature's first heartbeat announces them
    const brokers = liveBrokers(host.bus);
    return {
      name: "meshes",
      migrations: [meshesMigration, requestNonceMigration, presenceNodeMigration, delegationMigration],
      handlers: {
        async hello(ctx, f) {
          const outcome = (o: string) => host.metrics.count("claudemesh_hellos_total", 1, { outcome: o });
          const counted: HandlerContext = {
            ...ctx,
            refuse: (err) => {
              outcome(err.code);
              ctx.refuse(err);
            },
          };
          const admission = gate.enter();
          if (!admission.admitted) {
            const ms = admission.retryAfterMs;
            return counted.refuse(new WireError("busy", `the broker is busy admitting sessions; retry in ${ms} ms`, 503, ms));
          }
          try {
            const wait = ctx.conn.address === undefined ? 0 : tries.take(`${f.memberId} ${ctx.conn.address}`);
            if (wait > 0) return counted.refuse(new WireError("rate_limited", `too many hellos for this member; retry in ${wait} ms`, 429, wait));
            await handleHello({ host, repo, tokens, hellos, nodeId, presence, delegations, delegated, brokers }, counted, f);
            if (ctx.conn.peer) outcome("accepted");
          } catch (err) {
            outcome(err instanceof WireError ? err.code : "internal");
            throw err;
          } finally {
            admission.leave();
          }
        },
      },
      unauthenticated: ["hello"],
      auth: {
        grant: (token) => tokens.grant(token),
        isAdmin: (req) => isAdminToken(req, adminToken),
        signedMember: (req, text) => signedMember(req, text, repo, host.limits.skewMs, host.clock),
        mesh: (meshId) => repo.meshById(meshId),
        members: (meshId) => repo.listMembers(meshId),
      },
      routes: {
        ...meshRoutes({ host, repo, adminToken, quickStartRootKey }),
        ...delegationRoutes({ host, repo, delegations }),
        // The session bearer token from hello_ack, checked: the base for HTTP routes of live sessions.
        "/session": {
          GET: (req) => {
            const grant = sessionGrant(req, host.auth);
            if (!grant) return errorResponse(new WireError("unauthorized", "a valid session bearer token (from hello_ack) is required", 401));
            return reply(SessionResponse, {
              meshId: grant.meshId,
              memberId: grant.memberId,
              presenceId: grant.presenceId,
              sessionPubkey: grant.sessionPubkey,
              expiresAt: grant.expiresAt,
            });
          },
        },
      },
      // This node's presence rows left open by a crash are closed: nobody is connected to a broker that just
      // started. A dead node's are closed by the survivor that declares it dead.
      start() {
        host.bus.subscribe(NODE_DEAD, (payload) => {
          const { nodeId: dead } = NodeDead.parse(payload);
          repo
            .closeNodePresence(dead, { andLegacy: false })
            .catch((err) => host.log.warn("could not close a dead node's sessions", { node: dead, err: String(err) }));
        });
        return repo.closeNodePresence(nodeId, { andLegacy: true });
      },
      async sweep() {
        hellos.prune();
        tries.prune();
        // Session history is for operators looking back, not for routing; old rows only cost disk.
        await repo.prunePresence(host.clock.now() - host.limits.presenceRetentionMs);
        await repo.pruneNonces(host.clock.now());
        // A delegated session ends with its delegation, not only at its next hello.
        const now = host.clock.now();
        for (const { peer, expiresAt } of delegated.values()) {
          if (expiresAt <= now) endDelegatedSession(peer, "delegation_expired", "this session's delegation has expired; run `claudemesh dashboard` again");
        }
        await delegations.prune(now - 24 * 3600_000);
      },
      async onPeerDisconnected(peer) {
        tokens.revokeSession(peer.presenceId);
        delegated.delete(peer.presenceId);
        try {
          host.metrics.count("claudemesh_disconnects_total");
          await presence.add({ kind: "close", id: peer.presenceId, at: host.clock.now() });
        } catch (err) {
          host.log.warn("could not record disconnect", { err: String(err) });
        }
      },
    };
  };
