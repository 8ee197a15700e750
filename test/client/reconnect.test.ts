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

test("a hello the broker timed out (queued too long in a storm) is temporary: the client keeps trying and comes back", async () => {
  // a fixed port, so the restarted brokers are where the client reconnects
  const probe = Bun.serve({ port: 0, fetch: () => new Response("") });
  const port = probe.port;
  await probe.stop(true);
  await using first = await startTestBroker("sqlite", {}, undefined, { port });
  const mesh = await createMesh(first, "timeout");
  const c = await connect(await addMember(first, mesh, "Patient"), { backoff: { minMs: 20, maxMs: 50 } });
  let fatal: unknown = null;
  c.on("fatal", (err) => void (fatal = err));
  const refusals: string[] = [];
  const refused = new Promise<void>((resolve) =>
    c.on("retrying", (err) => {
      refusals.push(err.code);
      if (err.code === "not_authenticated") resolve();
    }),
  );
  // A broker whose hello timeout (0 ms) fires before a hello can arrive, nearly always; a hello that
  // still wins the race is dropped, so the client tries again.
  const dropWinner = () => void (refusals.length === 0 && c.dropConnection());
  const stopDropping = c.on("connected", dropWinner);
  const impatient = await first.restart({ helloTimeoutMs: 0, helloRatePerMember: 10_000 });
  await refused;
  expect(refusals).toEqual(["not_authenticated"]);
  stopDropping();
  const back = c.once("connected");
  await impatient.restart({});
  const [, reconnect] = await back;
  expect({ reconnect, fatal, connected: c.connected }).toEqual({ reconnect: true, fatal: null, connected: true });
});
