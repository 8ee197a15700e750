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

/** How far past a hint a hinted wait may land, as a share of the hint. */
export const HINT_JITTER = 0.2;

/**
 * A wait the failure asked for: the hint plus up to a fifth of it. The hint replaces the backoff instead
 * of being a floor under it: the broker that answered is up and said when, so a backoff grown while it
 * was down (up to its cap, 10 s for reconnects) would only make the session sleep blindly. The jitter
 * keeps sessions given the same hint (one budget's refill) from coming back in one wave.
 */
export function hintedDelay(hintMs: number, random: () => number = Math.random): number {
  return hintMs + Math.floor(random() * hintMs * HINT_JITTER);
}

export interface RetryOptions extends Backoff {
  /** tries in all, the first included; unlimited when absent */
  attempts?: number;
  /** whether a failure is worth another try, decided by its type, never by its message */
  retryable(err: unknown): boolean;
  /** a wait the failure itself asks for (a broker's "busy, retry in N ms"): it replaces the backoff (see `hintedDelay`) */
  retryAfterMs?(err: unknown): number | undefined;
  /** wait before the first try too: a backoff delay, or `hintMs` when given (a reconnect right after a drop) */
  delayFirst?: { hintMs?: number };
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
  const wait = (hintMs = 0) => {
    let ms: number;
    if (hintMs > 0) {
      ms = hintedDelay(hintMs, opts.random);
      // the far side answered: the backoff grown while it was unreachable starts over
      waits = 0;
    } else ms = backoffDelay(waits++, opts, opts.random);
    return { ms, done: () => timers.sleep(ms, opts.signal) };
  };
  if (opts.delayFirst) await wait(opts.delayFirst.hintMs).done();
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if ((opts.attempts !== undefined && attempt + 1 >= opts.attempts) || !opts.retryable(err)) throw err;
      const next = wait(opts.retryAfterMs?.(err));
      opts.onRetry?.(err, next.ms, attempt + 1);
      await next.done();
    }
  }
}
