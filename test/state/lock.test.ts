import { expect, test } from "bun:test";
import { KeyedQueue } from "../../src/state/lock.ts";

/** A task that records when it starts and finishes only when told to. */
function gated(name: string, log: string[], fail = false) {
  let finish!: () => void;
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const run = () =>
    new Promise<string>((resolve, reject) => {
      log.push(`start ${name}`);
      started();
      finish = () => {
        log.push(`end ${name}`);
        fail ? reject(new Error(name)) : resolve(name);
      };
    });
  return { run, started: startedP, finish: () => finish() };
}

test("KeyedQueue runs one task per key at a time, in arrival order, survives failures and forgets idle keys", async () => {
  const q = new KeyedQueue();
  const log: string[] = [];
  const [a1, a2, b1] = [gated("a1", log, true), gated("a2", log), gated("b1", log)];
  const p1 = q.run("a", a1.run);
  const p2 = q.run("a", a2.run);
  const p3 = q.run("b", b1.run);
  await Promise.all([a1.started, b1.started]); // different keys run concurrently
  expect(log).toEqual(["start a1", "start b1"]);
  a1.finish();
  await expect(p1).rejects.toThrow("a1");
  await a2.started; // a failure does not block the key
  expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
  a2.finish();
  b1.finish();
  expect(await Promise.all([p2, p3])).toEqual(["a2", "b1"]);
  await q.run("a", async () => {}); // drains; the key entry is dropped once idle
  await q.run("b", async () => {});
  expect(q.size).toBe(0);
});
