/** Never tell a refused session to come back sooner than this: a hint of ~0 ms would just be a spin. */
const MIN_RETRY_MS = 20;
/** Nor later than this: past it the session is better off with its own backoff. */
const MAX_RETRY_MS = 60_000;
/** A hello's time in flight before the first one has been measured. */
const FIRST_GUESS_MS = 50;

export type Admission = { admitted: true; leave(): void } | { admitted: false; retryAfterMs: number };

/**
 * Admission of hellos on one node, for reconnect storms. At most `maxPending` hellos are being verified
 * and recorded at once; past that a hello is refused at once (before any lookup or verification) with
 * a time to come back, so a burst of 10,000 reconnects waits in the clients rather than as a queue of
 * half-done hellos in the broker. The times handed out are slots spaced by the node's measured admission
 * rate (Little's law: `maxPending` in flight, each taking the average time, finish `maxPending / avg`
 * a millisecond), each refusal reserving the next slot: the refused come back spread at the rate the
 * node really admits, instead of all at the same instant.
 */
export class HelloGate {
  private pending = 0;
  /** moving average of a hello's time in flight, ms */
  private avgMs = FIRST_GUESS_MS;
  /** the last slot handed to a refused hello */
  private lastSlot = 0;

  constructor(
    private readonly maxPending: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  enter(): Admission {
    const t = this.now();
    if (this.pending < this.maxPending) {
      this.pending++;
      let left = false;
      return {
        admitted: true,
        leave: () => {
          if (left) return;
          left = true;
          this.pending--;
          this.avgMs += (this.now() - t - this.avgMs) / 8;
        },
      };
    }
    const perSlot = this.avgMs / this.maxPending;
    this.lastSlot = Math.min(Math.max(this.lastSlot, t) + perSlot, t + MAX_RETRY_MS);
    return { admitted: false, retryAfterMs: Math.max(MIN_RETRY_MS, Math.ceil(this.lastSlot - t)) };
  }

  /** hellos in flight now */
  get inFlight(): number {
    return this.pending;
  }
}
