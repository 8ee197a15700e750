import { z } from "zod";
import { optId } from "../protocol/common.ts";

const Json = z.json();
/** Anything JSON.parse can produce. */
export type JsonValue = z.infer<typeof Json>;

/**
 * Any JSON value, presence-checked only (the broker checks values in the handler, iteratively). Not
 * z.json(): its recursive walk overflows the stack on a hostile, deeply nested value (a 1 MiB frame nests
 * 500k levels), and it rebuilds objects by assignment, which silently drops a "__proto__" key.
 */
const AnyJson = z.custom<JsonValue>((v) => v !== undefined, "value is required (any JSON value, null included)");

// Length limits live in BrokerLimits and are checked by the handler, so they answer key_too_long /
// value_too_large rather than a generic invalid_frame.
const StateKey = z.string().min(1, "key must not be empty");

export const SetStateFrame = z.object({ type: z.literal("set_state"), ...optId, key: StateKey, value: AnyJson });
export const GetStateFrame = z.object({ type: z.literal("get_state"), ...optId, key: StateKey });
export const ListStateFrame = z.object({ type: z.literal("list_state"), ...optId });

export const StateEntry = z.object({
  key: z.string(),
  value: AnyJson,
  /** Display name of the session that wrote it last. */
  updatedBy: z.string(),
  /** Epoch ms of the last write. */
  updatedAt: z.number(),
});
export type StateEntry = z.infer<typeof StateEntry>;

/** Answer to set_state (the value as stored) and get_state (`found: false`, value null when the key is unset). */
export const StateResultFrame = z.object({
  type: z.literal("state_result"),
  ...optId,
  key: z.string(),
  value: AnyJson,
  found: z.boolean(),
  updatedBy: z.string().nullable(),
  updatedAt: z.number().nullable(),
});
export const StateListFrame = z.object({ type: z.literal("state_list"), ...optId, entries: z.array(StateEntry) });
/** Unsolicited push to every other connected peer of the mesh; no id, so it is never taken for an answer. */
export const StateChangeFrame = z.object({ type: z.literal("state_change"), ...StateEntry.shape });
