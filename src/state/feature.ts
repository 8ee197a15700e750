import type { FeatureFactory } from "../broker/host.ts";
import { checkStateKey, checkStateValue } from "./check.ts";
import { KeyedQueue } from "./lock.ts";
import { StateRepo } from "./repo.ts";
import { stateMigration } from "./schema.ts";

/** Shared state: any JSON value per (mesh, key), last write wins, every write pushed to the other peers. */
export const stateFeature: FeatureFactory = (host) => {
  const repo = new StateRepo(host.store);
  // Writes to one key are serialized from upsert to push, so every peer sees the changes in the order
  // the database applied them and ends on the value the database holds (concurrent writers converge).
  const writes = new KeyedQueue();
  return {
    name: "state",
    migrations: [stateMigration],
    views: { stateEntries: (meshId) => repo.list(meshId) },
    handlers: {
      async set_state(ctx, f) {
        const { meshId } = ctx.peer;
        checkStateKey(f.key, host.limits);
        const json = checkStateValue(f.value, host.limits);
        await writes.run(`${meshId}\u0000${f.key}`, async () => {
          const entry = await repo.set({ meshId, key: f.key, json, presenceId: ctx.peer.presenceId, name: ctx.peer.displayName, now: host.clock.now() });
          ctx.reply({ type: "state_result", ...entry, found: true });
          host.peers.broadcast(meshId, { type: "state_change", ...entry }, ctx.peer);
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
