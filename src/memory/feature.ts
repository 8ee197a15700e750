import type { FeatureFactory } from "../broker/host.ts";
import { publishActivity } from "../presence/activity.ts";
import { WireError } from "../protocol/wire-error.ts";
import { textProblem } from "../util/text.ts";
import { checkContent, normalizeTags } from "./check.ts";
import { DEFAULT_RECALL_LIMIT } from "./frames.ts";
import { searchWords } from "./query.ts";
import { MemoryRepo } from "./repo.ts";
import { memoryMigration } from "./schema.ts";

/** Persistent, searchable mesh knowledge: remember / recall / forget (soft delete). */
export const memoryFeature: FeatureFactory = (host) => {
  const repo = new MemoryRepo(host.store);
  return {
    name: "memory",
    migrations: [memoryMigration],
    handlers: {
      async remember(ctx, f) {
        const content = checkContent(f.content, host.limits);
        const tags = normalizeTags(f.tags, host.limits);
        const { meshId, memberId, displayName } = ctx.peer;
        const now = host.clock.now();
        const memoryId = await repo.remember({ meshId, content, tags, memberId, name: displayName, now });
        ctx.reply({ type: "memory_stored", memoryId });
        const memory = { id: memoryId, content, tags, rememberedBy: displayName, rememberedAt: now, score: 0 };
        publishActivity(host.bus, meshId, { type: "memory_stored", at: now, memory });
      },
      async recall(ctx, f) {
        const tags = normalizeTags(f.tags, host.limits);
        const limit = f.limit ?? DEFAULT_RECALL_LIMIT;
        const { meshId } = ctx.peer;
        const memories = f.query.trim() ? await repo.recall({ meshId, words: searchWords(f.query), tags, limit }) : await repo.recent({ meshId, tags, limit });
        ctx.reply({ type: "memory_results", memories });
      },
      async forget(ctx, f) {
        // ids are ours and plain ASCII; anything else cannot exist, and Postgres would reject a NUL outright
        if (textProblem(f.memoryId) || !(await repo.forget(ctx.peer.meshId, f.memoryId, host.clock.now()))) {
          throw new WireError("not_found", `no memory ${JSON.stringify(f.memoryId.slice(0, 64))} in this mesh (or it was already forgotten)`);
        }
        ctx.reply({ type: "ok" });
        publishActivity(host.bus, ctx.peer.meshId, { type: "memory_forgotten", at: host.clock.now(), memoryId: f.memoryId, by: ctx.peer.displayName });
      },
    },
  };
};
