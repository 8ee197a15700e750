import { z } from "zod";
import type { FeatureFactory } from "../broker/host.ts";
import type { PeerState } from "../broker/peer.ts";
import { checkStateKey, checkStateValue } from "./check.ts";
import { KeyedQueue } from "./lock.ts";
import { StateRepo, type Versioned } from "./repo.ts";
import { stateMigration, stateVersionMigration } from "./schema.ts";

/** The cluster topic that tells other broker nodes a key changed (they read it back: the database decides). */
const CHANGED = "state.changed";
const Changed = z.object({ meshId: z.string(), key: z.string() });

/** Shared state: any JSON value per (mesh, key), last write wins, every write pushed to the other peers. */
export const stateFeature: FeatureFactory = (host) => {
  const repo = new StateRepo(host.store);
  // Writes to one key are serialized from upsert to push, so every peer sees the changes in the order
  // the database applied them and ends on the value the database holds (concurrent writers converge).
  const writes = new KeyedQueue();
  /** per (mesh, key), the newest version this node pushed to its sessions */
  const pushed = new Map<string, number>();
  /** Pushes a change to this node's sessions (others push to theirs) unless a newer one went out already. */
  const push = (meshId: string, { entry, version }: Versioned, except?: PeerState) => {
    const slot = `${meshId}\u0000${entry.key}`;
    if (version <= (pushed.get(slot) ?? 0)) return;
    pushed.set(slot, version);
    for (const p of host.peers.peersOf(meshId)) if (p.nodeId === undefined && p !== except) p.conn.send({ type: "state_change", ...entry });
  };
  host.cluster.subscribe(CHANGED, (payload) => {
    const { meshId, key } = Changed.parse(payload);
    void writes
      .run(`${meshId}\u0000${key}`, async () => {
        const current = await repo.current(meshId, key);
        if (current) push(meshId, current);
      })
      .catch((err) => host.log.warn("could not read back a state change of another node", { err: String(err) }));
  });
  return {
    name: "state",
    migrations: [stateMigration, stateVersionMigration],
    views: { stateEntries: (meshId) => repo.list(meshId) },
    handlers: {
      async set_state(ctx, f) {
        const { meshId } = ctx.peer;
        checkStateKey(f.key, host.limits);
        const json = checkStateValue(f.value, host.limits);
        await writes.run(`${meshId}\u0000${f.key}`, async () => {
          const written = await repo.set({ meshId, key: f.key, json, presenceId: ctx.peer.presenceId, name: ctx.peer.displayName, now: host.clock.now() });
          const { entry } = written;
          ctx.reply({ type: "state_result", ...entry, found: true });
          push(meshId, written, ctx.peer);
          host.cluster.publish(CHANGED, { meshId, key: f.key });
          host.activity.publish(meshId, { type: "state_changed", at: entry.updatedAt, entry });
        });
      },
      async get_state(ctx, f) {
        checkStateKey(f.key, host.limits);
        const entry = await repo.get(ctx.peer.meshId, f.key);
        ctx.reply(
          entry
            ? { type: "state_result", ...entry, found: true }
            : { type: "state_result", key: f.key, value: null, found: false, updatedBy: null, updatedAt: null },
        );
      },
      async list_state(ctx) {
        ctx.reply({ type: "state_list", entries: await repo.list(ctx.peer.meshId) });
      },
    },
  };
};
