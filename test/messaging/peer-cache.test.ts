import { expect, test } from "bun:test";
import { PeerCache } from "../../src/messaging/peer-cache.ts";
import { addMember, connect, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

let b: TestBroker;
suiteFixture(async (stack) => {
  b = stack.use(await startTestBroker("sqlite"));
});

test("peer names are cached for the TTL, refreshed after it, on demand, and shared by concurrent callers", async () => {
  const mesh = await createMesh(b, "cache");
  const me = await connect(await addMember(b, mesh, "Me"));
  let requests = 0;
  const counting = { request: ((...a: Parameters<typeof me.request>) => (requests++, me.request(...a))) as typeof me.request };
  let now = 1_000_000;
  const cache = new PeerCache(counting, 30_000, () => now);
  const [a, b2] = await Promise.all([cache.all(), cache.all()]);
  expect(requests).toBe(1); // one list_peers for both callers
  expect(a.map((p) => p.name)).toEqual(["Me"]);
  expect(b2).toBe(a);

  await connect(await addMember(b, mesh, "Late"));
  now += 29_000;
  expect((await cache.sessionsNamed("Late")).length).toBe(0); // still cached: Late is not known yet
  expect(requests).toBe(1);
  now += 2_000; // past the 30 s TTL
  expect((await cache.sessionsNamed("Late")).length).toBe(1);
  expect(requests).toBe(2);
  await cache.sessionsNamed("Late", true); // forced refresh
  cache.invalidate();
  await cache.all();
  expect(requests).toBe(4);
});
