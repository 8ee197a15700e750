import { describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS } from "../../src/broker/config.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, connect, createMesh, rawSocket, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

const TIMEOUT = 400;

test("the default hello timeout is 10 s", () => {
  expect(DEFAULT_LIMITS.helloTimeoutMs).toBe(10_000);
});

describe.each(backends())("hello timeout per connection on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  suiteFixture(async (stack) => {
    // The ping sweep is far away, so only the per-socket timer can close anything within the test.
    b = stack.use(await startTestBroker(backend, { helloTimeoutMs: TIMEOUT, pingIntervalMs: 600_000 }));
    mesh = await createMesh(b, "hello-timeout");
  });

  test("a socket that never says hello is closed with 4004 within the timeout (+1 s)", async () => {
    const started = performance.now();
    const s = await rawSocket(b);
    const code = await s.closed;
    const elapsed = performance.now() - started;
    expect(code).toBe(4004);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - 50);
    expect(elapsed).toBeLessThan(TIMEOUT + 1000);
    expect(s.frames.at(-1)).toMatchObject({ type: "error", code: "not_authenticated" });
  });

  test("frames other than hello do not keep a socket alive past the timeout", async () => {
    const started = performance.now();
    const s = await rawSocket(b);
    s.ws.send(JSON.stringify({ type: "list_peers", id: "x" }));
    expect(await s.next((f) => f.id === "x")).toMatchObject({ type: "error", code: "not_authenticated" });
    s.ws.send(JSON.stringify({ type: "list_peers", id: "y" }));
    expect(await s.closed).toBe(4004);
    expect(performance.now() - started).toBeLessThan(TIMEOUT + 1000);
  });

  test.each([
    ["missing fields", JSON.stringify({ type: "hello", id: "h" })],
    ["wrong field types", JSON.stringify({ type: "hello", id: "h", meshId: 1, memberId: [], pubkey: {}, sessionPubkey: null, timestamp: "now" })],
  ])("a hello with %s is refused and closes the socket at once", async (_name, raw) => {
    const s = await rawSocket(b);
    const started = performance.now();
    s.ws.send(raw);
    expect(await s.next((f) => f.type === "error")).toMatchObject({ code: "invalid_frame" });
    expect(await s.closed).toBe(4001);
    // well before the hello timer would have fired
    expect(performance.now() - started).toBeLessThan(TIMEOUT);
  });

  test("a session that said hello outlives the timeout", async () => {
    const c = await connect(await addMember(b, mesh, "Stayer"));
    const helloAt = Date.now();
    while (Date.now() < helloAt + TIMEOUT + 200) await Bun.sleep(50); // the elapsed time itself is under test
    expect(c.connected).toBe(true);
    const peers = await c.request({ type: "list_peers" }, "peers_list");
    expect(peers.peers.some((p) => p.self)).toBe(true);
    expect(b.broker.connectionCount()).toBeGreaterThanOrEqual(1);
  });
});
