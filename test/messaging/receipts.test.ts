import { expect, test } from "bun:test";
import { ReceiptBatcher } from "../../src/messaging/receipts.ts";

test("receipts arriving together are written in one batch; each caller learns when its own is stored", async () => {
  const writes: { sessionPubkey: string; ids: string[] }[][] = [];
  const b = new ReceiptBatcher(async (batch) => void writes.push(batch));
  await Promise.all([b.add("s1", ["m1"]), b.add("s2", ["m1", "m2"]), b.add("s3", ["m3"])]);
  expect(writes).toEqual([
    [
      { sessionPubkey: "s1", ids: ["m1"] },
      { sessionPubkey: "s2", ids: ["m1", "m2"] },
      { sessionPubkey: "s3", ids: ["m3"] },
    ],
  ]);
  await b.add("s4", ["m4"]); // a later receipt starts a new batch
  expect(writes).toHaveLength(2);
});

test("a failed write rejects every receipt of its batch, and the next batch starts clean", async () => {
  let fail = true;
  const b = new ReceiptBatcher(async () => {
    if (fail) throw new Error("disk full");
  });
  const results = await Promise.allSettled([b.add("s1", ["m1"]), b.add("s2", ["m2"])]);
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  fail = false;
  await expect(b.add("s1", ["m1"])).resolves.toBeUndefined();
});

test("while a fan-out pushes, receipts wait; its end writes them, in one batch", async () => {
  const writes: string[][] = [];
  let busy = true;
  const b = new ReceiptBatcher(async (batch) => void writes.push(batch.map((r) => r.sessionPubkey)), { busy: () => busy, maxHoldMs: 60_000 });
  const stored = Promise.all([b.add("s1", ["m1"]), b.add("s2", ["m1"])]);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  expect(writes).toEqual([]);
  b.add("s3", ["m1"]);
  busy = false;
  b.release();
  await stored;
  expect(writes).toEqual([["s1", "s2", "s3"]]);
});

test("a receipt waits for fan-outs at most maxHoldMs, counted from the oldest waiting", async () => {
  const writes: string[][] = [];
  const b = new ReceiptBatcher(async (batch) => void writes.push(batch.map((r) => r.sessionPubkey)), { busy: () => true, maxHoldMs: 30 });
  const started = performance.now();
  await b.add("s1", ["m1"]);
  expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  expect(writes).toEqual([["s1"]]);
});

test("receipts are written at most maxIds at a time, in arrival order, one write after the other", async () => {
  const writes: string[][] = [];
  let inFlight = 0;
  let overlapped = false;
  const b = new ReceiptBatcher(
    async (batch) => {
      overlapped ||= inFlight > 0;
      inFlight++;
      await new Promise((r) => setImmediate(r));
      writes.push(batch.map((r) => `${r.sessionPubkey}:${r.ids.length}`));
      inFlight--;
    },
    { maxIds: 3 },
  );
  await Promise.all([b.add("a", ["1"]), b.add("b", ["1", "2"]), b.add("c", ["1"]), b.add("d", ["1", "2", "3", "4"]), b.add("e", ["1"])]);
  // a receipt with more ids than maxIds goes alone rather than never
  expect(writes).toEqual([["a:1", "b:2"], ["c:1"], ["d:4"], ["e:1"]]);
  expect(overlapped).toBe(false);
});

test("drain writes what waits at once, fan-out or not, and settles once it is stored", async () => {
  const writes: string[][] = [];
  const b = new ReceiptBatcher(async (batch) => void writes.push(batch.map((r) => r.sessionPubkey)), { busy: () => true, maxHoldMs: 60_000, maxIds: 1 });
  const stored = Promise.all([b.add("s1", ["m1"]), b.add("s2", ["m2"])]);
  await new Promise((r) => setImmediate(r));
  await b.drain();
  expect(writes).toEqual([["s1"], ["s2"]]);
  await stored;
});
