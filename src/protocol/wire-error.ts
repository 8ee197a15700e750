// No zod here: the CLI entry (which every `claudemesh hook` runs through) needs the class, not the schema.
import { LocalError } from "../util/errors.ts";
import type { ErrorCode } from "./errors.ts";

/** What the broker answers with: an `error` frame or JSON error body. Clients rebuild it from the answer. */
export class WireError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly httpStatus = 400,
    /** for `rate_limited` and `busy`: when trying again can succeed */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "WireError";
  }
}

/** `message [code]`: the one way an error reads in the CLI, tool results and logs. */
export function errorText(err: unknown): string {
  if (err instanceof WireError) return `${err.message} [${err.code}]`;
  if (err instanceof LocalError) return `${err.message} [${err.kind}]`;
  return err instanceof Error ? err.message : String(err);
}
