import { expect, test } from "bun:test";
import { ReceiptBatcher } from "../../src/messaging/receipts.ts";
import { deferred } from "../helpers/wait.ts";

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

test("while a broadcast is still pushing, receipts wait for it and go in one batch with those that came meanwhile", async () => {
  const writes: { sessionPubkey: string; ids: string[] }[][] = [];
  const pushing = deferred();
  let fanout: Promise<void> | null = pushing.promise;
  const b = new ReceiptBatcher(async (batch) => void writes.push(batch), { gate: () => fanout, maxHoldMs: 600_000 });
  const first = b.add("s1", ["m1"]);
  // several turns of the event loop: the batch would have been written in the first
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(writes).toEqual([]);
  const second = b.add("s2", ["m1"]);
  fanout = null;
  pushing.resolve();
  await Promise.all([first, second]);
  expect(writes).toEqual([
    [
      { sessionPubkey: "s1", ids: ["m1"] },
      { sessionPubkey: "s2", ids: ["m1"] },
    ],
  ]);
  // no fan-out: the next one is written at once
  await b.add("s3", ["m2"]);
  expect(writes).toHaveLength(2);
});

test("a fan-out that never ends holds receipts no longer than the bound", async () => {
  const writes: unknown[] = [];
  const never = new Promise<void>(() => {});
  const b = new ReceiptBatcher(async (batch) => void writes.push(batch), { gate: () => never, maxHoldMs: 5 });
  await b.add("s1", ["m1"]);
  await b.add("s2", ["m2"]);
  expect(writes).toHaveLength(2);
});

test("a thousand receipts are written a few hundred at a time, each caller once its own part is stored", async () => {
  const writes: number[] = [];
  const b = new ReceiptBatcher(async (batch) => void writes.push(batch.length));
  await Promise.all(Array.from({ length: 1000 }, (_, i) => b.add(`s${i}`, [`m${i}`])));
  expect(writes).toEqual([256, 256, 256, 232]);
});
