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
 * half-done hellos in the broker. The times handed out are slots spaced by the node's admission pace,
 * each refusal reserving the next: the refused come back spread at the rate the node really admits,
 * instead of all at the same instant. The pace is the measured gap between hellos finishing while the
 * gate was full (the node's real throughput, refusals and everything else it does included); until it
 * has been full long enough to know, Little's law guesses it: `maxPending` in flight, each taking the
 * average time.
 */
export class HelloGate {
  private pending = 0;
  /** moving average of a hello's time in flight, ms */
  private avgMs = FIRST_GUESS_MS;
  /** moving average of the gap between hellos finishing while the gate was full; 0 until measured */
  private gapMs = 0;
  /** when the last hello finished with the gate full; 0 when the gate has had room since */
  private lastFullLeave = 0;
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
          this.leave(t);
        },
      };
    }
    const perSlot = this.gapMs > 0 ? this.gapMs : this.avgMs / this.maxPending;
    this.lastSlot = Math.min(Math.max(this.lastSlot, t) + perSlot, t + MAX_RETRY_MS);
    return { admitted: false, retryAfterMs: Math.max(MIN_RETRY_MS, Math.ceil(this.lastSlot - t)) };
  }

  private leave(enteredAt: number): void {
    const t = this.now();
    if (this.pending >= this.maxPending) {
      if (this.lastFullLeave > 0) this.gapMs = this.gapMs === 0 ? t - this.lastFullLeave : this.gapMs + (t - this.lastFullLeave - this.gapMs) / 16;
      this.lastFullLeave = t;
    } else this.lastFullLeave = 0;
    this.pending--;
    this.avgMs += (t - enteredAt - this.avgMs) / 8;
  }

  /** hellos in flight now */
  get inFlight(): number {
    return this.pending;
  }
}
