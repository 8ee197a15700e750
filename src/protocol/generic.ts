import { z } from "zod";
import { ErrorCode } from "./errors.ts";
import { optId } from "./common.ts";

export const ErrorFrame = z.object({
  type: z.literal("error"),
  ...optId,
  code: ErrorCode,
  message: z.string(),
  /** with `rate_limited` and `busy`: milliseconds until a retry can succeed */
  retryAfterMs: z.number().int().nonnegative().optional(),
});
/** Answer to a request that has nothing else to say. */
export const OkFrame = z.object({ type: z.literal("ok"), ...optId });
