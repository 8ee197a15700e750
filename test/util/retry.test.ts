import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/util/clock.ts";
import { ConnectionLost, InvalidArgument } from "../../src/util/errors.ts";
import { backoffDelay, hintedDelay, type RetryOptions, retry } from "../../src/util/retry.ts";

class Busy extends Error {
  constructor(readonly afterMs?: number) {
    super("busy");
  }
}

/** Fails with `failures` in turn, then returns "done"; counts its tries. */
function flaky(failures: Error[]) {
  const f = async () => {
    f.tries++;
    const err = failures.shift();
    if (err) throw err;
    return "done";
  };
  f.tries = 0;
  return f;
}

const half = () => 0.5;
const opts = (clock: ManualClock, extra: Partial<RetryOptions> = {}): RetryOptions => ({
  baseMs: 100,
  capMs: 250,
  timers: clock,
  random: half,
  retryable: (err) => err instanceof Busy,
  ...extra,
});

/** Lets every sleep the retry starts pass at once; returns their lengths. */
async function drive<T>(clock: ManualClock, p: Promise<T>, sleeps: number): Promise<{ result: T; delays: number[] }> {
  const delays: number[] = [];
  for (let i = 0; i < sleeps; i++) {
    const ms = await clock.nextSleep();
    delays.push(ms);
    clock.advance(ms);
  }
  return { result: await p, delays };
}

describe("backoffDelay", () => {
  test("full jitter: uniform under a ceiling that doubles up to the cap", () => {
    const b = { baseMs: 100, capMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, b, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect([0, 3, 10].map((n) => backoffDelay(n, b, () => 0))).toEqual([0, 0, 0]);
  });
});

describe("retry", () => {
  test("retries a retryable failure with growing waits until it succeeds", async () => {
    const clock = new ManualClock(0);
    const fn = flaky([new Busy(), new Busy(), new Busy()]);
    const { result, delays } = await drive(clock, retry(fn, opts(clock)), 3);
    expect(result).toBe("done");
    expect(fn.tries).toBe(4);
    expect(delays).toEqual([50, 100, 125]);
  });

  test("a failure the predicate rejects is thrown at once, whatever its message says", async () => {
    const clock = new ManualClock(0);
    const fn = flaky([new InvalidArgument("busy, please retry")]);
    await expect(retry(fn, opts(clock))).rejects.toBeInstanceOf(InvalidArgument);
    expect(fn.tries).toBe(1);
  });

  test("gives up after its attempts with the last failure", async () => {
    const clock = new ManualClock(0);
    const last = new Busy();
    const fn = flaky([new Busy(), new Busy(), last, new Busy()]);
    const p = retry(fn, opts(clock, { attempts: 3 }));
    const done = p.catch((e) => e);
    for (let i = 0; i < 2; i++) clock.advance(await clock.nextSleep());
    expect(await done).toBe(last);
    expect(fn.tries).toBe(3);
  });

  test("a wait the failure asks for replaces the backoff: the hint plus up to a fifth of it, and the backoff starts over", async () => {
    const clock = new ManualClock(0);
    const fn = flaky([new Busy(5_000), new Busy()]);
    const { delays } = await drive(clock, retry(fn, opts(clock, { retryAfterMs: (e) => (e instanceof Busy ? e.afterMs : undefined) })), 2);
    // 5 000 + 0.5 · 1 000; then the first backoff step again (0.5 · 100), not the second
    expect(delays).toEqual([5_500, 50]);
  });

  test("a hint shorter than the grown backoff is not stretched to it: no blind sleep up to the cap", async () => {
    const clock = new ManualClock(0);
    // unreachable four times (the backoff grows to its 10 s cap), then reachable but busy for 300 ms
    const fn = flaky([new Busy(), new Busy(), new Busy(), new Busy(), new Busy(300)]);
    const big = { baseMs: 2_500, capMs: 10_000, random: () => 0.999999 };
    const { delays } = await drive(clock, retry(fn, opts(clock, { ...big, retryAfterMs: (e) => (e instanceof Busy ? e.afterMs : undefined) })), 5);
    expect(delays.slice(0, 4)).toEqual([2_499, 4_999, 9_999, 9_999]);
    expect(delays[4]).toBe(359);
  });

  test("hinted waits are spread over [hint, 1.2 · hint] by the random source", () => {
    expect([0, 0.5, 0.999999].map((r) => hintedDelay(1_000, () => r))).toEqual([1_000, 1_100, 1_199]);
  });

  test("a wait ends only when the clock passes it", async () => {
    const clock = new ManualClock(0);
    const fn = flaky([new Busy()]);
    const p = retry(fn, opts(clock));
    const ms = await clock.nextSleep();
    clock.advance(ms - 1);
    await Promise.resolve();
    expect(fn.tries).toBe(1);
    clock.advance(1);
    expect(await p).toBe("done");
    expect(fn.tries).toBe(2);
  });

  test("delayFirst waits before the first try too, the given hint when there is one", async () => {
    const clock = new ManualClock(0);
    const fn = flaky([]);
    // the first wait starts inside the call, so listen before it
    const first = clock.nextSleep();
    const p = retry(fn, opts(clock, { delayFirst: { hintMs: 700 } }));
    expect(await first).toBe(770);
    expect(fn.tries).toBe(0);
    clock.advance(770);
    expect(await p).toBe("done");
    expect(fn.tries).toBe(1);
  });

  test("aborting ends the wait with the signal's reason and no try follows", async () => {
    const clock = new ManualClock(0);
    const abort = new AbortController();
    const fn = flaky([new ConnectionLost("gone"), new Busy()]);
    const p = retry(fn, opts(clock, { signal: abort.signal, retryable: () => true }));
    await clock.nextSleep();
    const stop = new Error("stopped");
    abort.abort(stop);
    expect(await p.catch((e) => e)).toBe(stop);
    clock.advance(10_000);
    expect(fn.tries).toBe(1);
  });

  test("onRetry hears each failure before its wait", async () => {
    const clock = new ManualClock(0);
    const heard: [string, number, number][] = [];
    const fn = flaky([new Busy(), new Busy()]);
    await drive(clock, retry(fn, opts(clock, { onRetry: (e, ms, next) => heard.push([(e as Error).message, ms, next]) })), 2);
    expect(heard).toEqual([
      ["busy", 50, 1],
      ["busy", 100, 2],
    ]);
  });
});
