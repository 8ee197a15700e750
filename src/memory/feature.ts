import type { FeatureFactory, MeshViews } from "../broker/host.ts";
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
  const search: MeshViews["searchMemory"] = (meshId, { q, tags: raw, limit }) => {
    const tags = normalizeTags(raw, host.limits);
    return q.trim() ? repo.recall({ meshId, words: searchWords(q), tags, limit }) : repo.recent({ meshId, tags, limit });
  };
  const forget: MeshViews["forgetMemory"] = async (meshId, memoryId, by) => {
    // ids are ours and plain ASCII; anything else cannot exist, and Postgres would reject a NUL outright
    if (textProblem(memoryId) || memoryId.length > 128 || !(await repo.forget(meshId, memoryId, host.clock.now()))) return false;
    host.activity.publish(meshId, { type: "memory_forgotten", at: host.clock.now(), memoryId, by });
    return true;
  };
  return {
    name: "memory",
    migrations: [memoryMigration],
    views: { searchMemory: search, forgetMemory: forget },
    handlers: {
      async remember(ctx, f) {
        const content = checkContent(f.content, host.limits);
        const tags = normalizeTags(f.tags, host.limits);
        const { meshId, memberId, displayName } = ctx.peer;
        const now = host.clock.now();
        const memoryId = await repo.remember({ meshId, content, tags, memberId, name: displayName, now });
        ctx.reply({ type: "memory_stored", memoryId });
        const memory = { id: memoryId, content, tags, rememberedBy: displayName, rememberedAt: now, score: 0 };
        host.activity.publish(meshId, { type: "memory_stored", at: now, memory });
      },
      async recall(ctx, f) {
        const memories = await search(ctx.peer.meshId, { q: f.query, tags: f.tags ?? [], limit: f.limit ?? DEFAULT_RECALL_LIMIT });
        ctx.reply({ type: "memory_results", memories });
      },
      async forget(ctx, f) {
        if (!(await forget(ctx.peer.meshId, f.memoryId, ctx.peer.displayName))) {
          throw new WireError("not_found", `no memory ${JSON.stringify(f.memoryId.slice(0, 64))} in this mesh (or it was already forgotten)`);
        }
        ctx.reply({ type: "ok" });
      },
    },
  };
};
