import { z } from "zod";
import { defineTool, type McpTool } from "../client/tool.ts";
import { DEFAULT_RECALL_LIMIT, MAX_RECALL_LIMIT, type Memory } from "./frames.ts";

const memoryBlock = (m: Memory, i: number) => {
  const meta = [m.id, `by ${m.rememberedBy}`, new Date(m.rememberedAt).toISOString()];
  if (m.tags.length) meta.push(`tags: ${m.tags.join(", ")}`);
  if (m.score) meta.push(`score ${m.score.toFixed(3)}`);
  return `${i + 1}. [${meta.join(" · ")}]\n${m.content}`;
};

const tags = z.array(z.string().min(1).max(64)).max(16);

const remember = defineTool({
  name: "remember",
  description:
    "Store knowledge permanently for the whole mesh: decisions and their reasons, incidents and their fixes, conventions, gotchas. " +
    "It survives restarts and is found by future sessions with recall. Write one self-contained fact per memory, with the words someone would search for. " +
    "For facts that change during the work (who owns what, is X frozen), use set_state instead.",
  input: {
    content: z.string().min(1).describe('e.g. "Payments API rate-limits at 100 req/s since the March incident; batch calls." (≤ 16 KiB)'),
    tags: tags.optional().describe('Optional labels for filtering, e.g. ["payments", "incident"] (stored lower-case)'),
  },
  async run(ctx, args) {
    const r = await ctx.client.request({ type: "remember", content: args.content, ...(args.tags ? { tags: args.tags } : {}) }, "memory_stored");
    return { text: `Remembered as ${r.memoryId}.`, data: { memoryId: r.memoryId } };
  },
});

const recall = defineTool({
  name: "recall",
  description:
    "Search the mesh's permanent memory (what any session ever remembered) by keywords, best matches first. " +
    'A memory matches if it contains any of the words (stemmed: "rate-limits" finds "rate limit"). ' +
    "Check it before starting unfamiliar work. An empty query lists the newest memories.",
  input: {
    query: z.string().max(4096).describe('Keywords, e.g. "payments rate limit"'),
    tags: tags.optional().describe("Only memories carrying all of these tags"),
    limit: z.number().int().min(1).max(MAX_RECALL_LIMIT).optional().describe(`How many results (default ${DEFAULT_RECALL_LIMIT}, at most ${MAX_RECALL_LIMIT})`),
  },
  async run(ctx, args) {
    const r = await ctx.client.request(
      { type: "recall", query: args.query, ...(args.tags ? { tags: args.tags } : {}), ...(args.limit ? { limit: args.limit } : {}) },
      "memory_results",
    );
    const n = r.memories.length;
    const text = n === 0 ? "No memories match." : `${n} memor${n === 1 ? "y" : "ies"}:\n${r.memories.map(memoryBlock).join("\n\n")}`;
    return { text, data: { memories: r.memories } };
  },
});

const forget = defineTool({
  name: "forget",
  description: "Forget a memory that is wrong or obsolete (by its id from recall); it is never returned again. Remember the corrected fact separately.",
  input: { id: z.string().min(1).max(128).describe('Memory id, e.g. "mem_k3j9…"') },
  async run(ctx, args) {
    await ctx.client.request({ type: "forget", memoryId: args.id }, "ok");
    return { text: `Forgot ${args.id}.`, data: { memoryId: args.id } };
  },
});

export const memoryTools: McpTool[] = [remember, recall, forget];
