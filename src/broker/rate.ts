/** Token bucket: `ratePerSec` sustained, bursts up to twice that. */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();
  constructor(private readonly ratePerSec: number) {
    this.tokens = ratePerSec * 2;
  }
  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.ratePerSec * 2, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
  }
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
  /** How long until the next `take` can succeed; 0 when it can now. */
  retryAfterMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000);
  }
  /** Back at its full burst: nothing to remember about this key. */
  get idle(): boolean {
    this.refill();
    return this.tokens >= this.ratePerSec * 2;
  }
}

/**
 * One token bucket per key (a member id, a remote address). Keys come from clients, so the map is bounded:
 * buckets that have refilled to their burst carry no information and are dropped once it grows.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, RateLimiter>();
  constructor(
    private readonly ratePerSec: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes a token for `key`; returns 0 when granted, else the milliseconds until one is available. */
  take(key: string): number {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune();
      this.buckets.set(key, (b = new RateLimiter(this.ratePerSec)));
    }
    return b.take() ? 0 : Math.max(1, b.retryAfterMs());
  }

  prune(): void {
    for (const [k, b] of this.buckets) if (b.idle) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }
}
