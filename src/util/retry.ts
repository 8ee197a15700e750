import { systemTimers, type Timers } from "./clock.ts";

export interface Backoff {
  /** the ceiling of the first delay; it doubles with every wait */
  baseMs: number;
  /** no ceiling grows past this */
  capMs: number;
}

/**
 * Full jitter: uniform in [0, min(cap, base·2^n)]. Sessions dropped together by one broker restart come
 * back spread over the whole window instead of in synchronised waves.
 */
export function backoffDelay(n: number, b: Backoff, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(b.capMs, b.baseMs * 2 ** n));
}

export interface RetryOptions extends Backoff {
  /** tries in all, the first included; unlimited when absent */
  attempts?: number;
  /** whether a failure is worth another try, decided by its type, never by its message */
  retryable(err: unknown): boolean;
  /** a wait the failure itself asks for (a broker's "busy, retry in N ms"): the delay is at least this */
  retryAfterMs?(err: unknown): number | undefined;
  /** wait before the first try too, at least `atLeastMs` (a reconnect right after a drop) */
  delayFirst?: { atLeastMs?: number };
  /** ends the waiting: the pending sleep rejects with the signal's reason, and no try follows */
  signal?: AbortSignal;
  timers?: Timers;
  random?: () => number;
  /** before each wait: logs, or undoing what made the try fail (a stale cache) */
  onRetry?(err: unknown, delayMs: number, nextAttempt: number): void;
}

/** Runs `fn` until it succeeds, a failure is not retryable, the attempts run out or the signal aborts. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const timers = opts.timers ?? systemTimers;
  let waits = 0;
  const wait = (atLeastMs: number) => {
    const ms = Math.max(atLeastMs, backoffDelay(waits++, opts, opts.random));
    return { ms, done: () => timers.sleep(ms, opts.signal) };
  };
  if (opts.delayFirst) await wait(opts.delayFirst.atLeastMs ?? 0).done();
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if ((opts.attempts !== undefined && attempt + 1 >= opts.attempts) || !opts.retryable(err)) throw err;
      const next = wait(opts.retryAfterMs?.(err) ?? 0);
      opts.onRetry?.(err, next.ms, attempt + 1);
      await next.done();
    }
  }
}
