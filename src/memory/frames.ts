import { z } from "zod";
import { optId } from "../protocol/common.ts";

export const MAX_RECALL_LIMIT = 50;
export const DEFAULT_RECALL_LIMIT = 10;
/** Longer queries are refused at the frame; only the first words of a long query are searched anyway. */
export const MAX_QUERY_CHARS = 4096;

// Content and tag limits live in BrokerLimits and are checked by the handler (value_too_large etc.).
export const RememberFrame = z.object({
  type: z.literal("remember"),
  ...optId,
  content: z.string(),
  tags: z.array(z.string()).optional(),
});
export const RecallFrame = z.object({
  type: z.literal("recall"),
  ...optId,
  /** Free text; see src/memory/query.ts for how it is searched. Blank lists the most recent memories. */
  query: z.string().max(MAX_QUERY_CHARS),
  /** Only memories carrying every one of these tags. */
  tags: z.array(z.string()).optional(),
  limit: z.number().int().min(1).max(MAX_RECALL_LIMIT).optional(),
});
export const ForgetFrame = z.object({ type: z.literal("forget"), ...optId, memoryId: z.string().min(1).max(128) });

export const Memory = z.object({
  id: z.string(),
  content: z.string(),
  tags: z.array(z.string()),
  /** Display name of the session that remembered it. */
  rememberedBy: z.string(),
  rememberedAt: z.number(),
  /** Relevance, higher is better; comparable only within one result list (0 when listing recent memories). */
  score: z.number(),
});
export type Memory = z.infer<typeof Memory>;

export const MemoryStoredFrame = z.object({ type: z.literal("memory_stored"), ...optId, memoryId: z.string() });
export const MemoryResultsFrame = z.object({ type: z.literal("memory_results"), ...optId, memories: z.array(Memory) });
