import { expect, test } from "bun:test";
import { ManualClock } from "../../src/util/clock.ts";
import { addMember, connect, createMesh, startTestBroker } from "../helpers/broker.ts";

test("after a drop the client reconnects only once its backoff wait has passed on its timers", async () => {
  await using b = await startTestBroker("sqlite");
  const mesh = await createMesh(b, "reconnect");
  const clock = new ManualClock();
  const c = await connect(await addMember(b, mesh, "Alice"), { timers: clock, backoff: { minMs: 1_000, maxMs: 1_000 } });
  const waiting = clock.nextSleep();
  const back = c.once("connected");
  c.dropConnection();
  const ms = await waiting;
  expect(ms).toBeGreaterThanOrEqual(0);
  expect(ms).toBeLessThanOrEqual(1_000);
  expect(c.connected).toBe(false);
  clock.advance(ms);
  const [, reconnect] = await back;
  expect(reconnect).toBe(true);
  expect(c.connected).toBe(true);
});
