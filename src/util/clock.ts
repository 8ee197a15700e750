/** Time as features see it; injectable so expiry and TTL tests move time instead of sleeping. */
export interface Clock {
  now(): number;
}

/** Waiting, injectable for the same reason: backoff tests move a ManualClock instead of sleeping. */
export interface Timers {
  /** Resolves after `ms`; rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now() };

export const systemTimers: Timers = {
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

interface Sleeper {
  due: number;
  resolve(): void;
}

/** A clock that only moves when told to; its sleeps end when `advance` passes their time. */
export class ManualClock implements Clock, Timers {
  private sleepers: Sleeper[] = [];
  private watchers: ((ms: number) => void)[] = [];

  constructor(private t = Date.now()) {}

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.due <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.due > this.t);
    for (const s of due) s.resolve();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper: Sleeper = { due: this.t + ms, resolve };
      signal?.addEventListener(
        "abort",
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
      if (ms <= 0) resolve();
      else this.sleepers.push(sleeper);
      for (const w of this.watchers.splice(0)) w(ms);
    });
  }

  /** Resolves with the length of the next sleep anyone starts: a test's cue to advance. */
  nextSleep(): Promise<number> {
    return new Promise((resolve) => this.watchers.push(resolve));
  }
}
