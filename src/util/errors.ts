import type { ErrorCode } from "../protocol/errors.ts";

/** A failure with a stable machine code; the broker turns it into an `error` frame / JSON body, the CLI into a message. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly httpStatus = 400,
    /** for `rate_limited`: when trying again can succeed */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const fail = (code: ErrorCode, message: string, httpStatus?: number): never => {
  throw new AppError(code, message, httpStatus);
};
