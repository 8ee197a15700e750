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
