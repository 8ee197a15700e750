import { describe, expect, test } from "bun:test";
import { GroupCommit } from "../../src/store/group-commit.ts";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder(minIntervalMs: number) {
  const batches: number[][] = [];
  const commit = new GroupCommit<number, number>(
    async (items) => {
      batches.push(items);
      return items.map((i) => ({ ok: true as const, value: i * 2 }));
    },
    500,
    undefined,
    minIntervalMs,
  );
  return { batches, commit };
}

describe("GroupCommit", () => {
  test("each item settles with its own outcome, in order", async () => {
    const { commit } = recorder(0);
    expect(await Promise.all([1, 2, 3].map((i) => commit.add(i)))).toEqual([2, 4, 6]);
  });

  test("with a minimum interval, a lone item is written at once and a stream of them in one batch", async () => {
    const { batches, commit } = recorder(60_000);
    const started = performance.now();
    expect(await commit.add(1)).toBe(2);
    // not held for the interval: nothing had been written before it
    expect(performance.now() - started).toBeLessThan(1_000);
    // 100 items, one per turn of the event loop, right after a commit: they wait, together
    const stream: Promise<number>[] = [];
    for (let i = 0; i < 100; i++) {
      stream.push(commit.add(i));
      await tick();
    }
    expect(batches.length).toBe(1);
    // a full batch does not wait for the interval
    const rest = Array.from({ length: 400 }, (_, i) => commit.add(i));
    expect((await Promise.all([...stream, ...rest])).length).toBe(500);
    expect(batches.map((b) => b.length)).toEqual([1, 500]);
  });

  test("without one, items that arrive on separate turns are written as they come", async () => {
    const { batches, commit } = recorder(0);
    const done: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) {
      done.push(commit.add(i));
      await tick();
      await tick();
    }
    await Promise.all(done);
    expect(batches.length).toBeGreaterThan(5);
  });
});
