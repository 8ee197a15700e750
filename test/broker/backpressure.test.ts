import { expect, test } from "bun:test";
import { startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

let b: TestBroker;
suiteFixture(async (stack) => {
  b = stack.use(await startTestBroker("sqlite"));
});

test("a client pipelining more frames than the broker can queue is cut off, and nothing else is affected", async () => {
  const frames: any[] = [];
  let closedWith = null as number | null;
  const conn = b.broker.open({ send: (d) => void frames.push(JSON.parse(d)), close: (c) => void (closedWith = c), ping: () => {} });
  const handled: Promise<void>[] = [];
  for (let i = 0; i < 1001; i++) handled.push(b.broker.message(conn, JSON.stringify({ type: "list_peers", id: `f${i}` })));
  expect(closedWith).toBe(4009);
  expect(frames.at(-1)).toMatchObject({ type: "error", code: "rate_limited" });
  await Promise.all(handled);
  expect(b.broker.connectionCount()).toBe(0);
  // the broker still serves a fresh connection
  const fresh: any[] = [];
  const c2 = b.broker.open({ send: (d) => void fresh.push(JSON.parse(d)), close: () => {}, ping: () => {} });
  await b.broker.message(c2, JSON.stringify({ type: "list_peers", id: "x" }));
  expect(fresh).toEqual([
    { type: "challenge", challenge: c2.challenge },
    { type: "error", code: "not_authenticated", message: "send hello first", id: "x" },
  ]);
});
