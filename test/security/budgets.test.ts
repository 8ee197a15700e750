import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, closeClients, connect, createMesh, rawSocket, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { inProcessSession, recordingTransport } from "../helpers/in-process.ts";

describe.each(backends())("per-member and per-address budgets on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  beforeAll(async () => {
    b = await startTestBroker(backend, { frameRatePerSec: 100_000, memberFrameRatePerSec: 10, helloRatePerMember: 1, connectRatePerAddress: 1 });
    mesh = await createMesh(b, "budgets");
  });
  afterAll(async () => {
    closeClients();
    await b.destroy();
  });
  afterEach(() => closeClients());

  test("frames are budgeted across all of a member's connections: rate_limited with a retry hint, then a close", async () => {
    const m = await addMember(b, mesh, "Chatty");
    const one = await inProcessSession(b, m);
    const two = await inProcessSession(b, m);
    const other = await inProcessSession(b, await addMember(b, mesh, "Quiet"));
    // burst of 2 x 10 frames for the member as a whole; each connection alone would allow 200 000
    const answers: any[] = [];
    for (let i = 0; i < 12; i++) {
      answers.push(...(await one.send(JSON.stringify({ type: "list_peers", id: `a${i}` }))));
      if (two.transport.closedWith() === null) answers.push(...(await two.send(JSON.stringify({ type: "list_peers", id: `b${i}` }))));
    }
    const limited = answers.filter((f) => f.type === "error");
    expect(answers.filter((f) => f.type === "peers_list").length).toBeLessThanOrEqual(21);
    expect(limited[0]).toMatchObject({ code: "rate_limited" });
    expect(limited[0].retryAfterMs).toBeGreaterThan(0);
    expect([one.transport.closedWith(), two.transport.closedWith()]).toContain(4029);
    // another member's budget is its own
    expect((await other.send(JSON.stringify({ type: "list_peers", id: "o" })))[0]).toMatchObject({ type: "peers_list" });
  });

  test("hellos are budgeted per member before any signature is checked", async () => {
    const m = await addMember(b, mesh, "Restless");
    // burst of 2: two hellos verify, the third is refused without its (forged) signatures ever being checked
    await inProcessSession(b, m);
    await inProcessSession(b, m);
    const t = recordingTransport();
    const conn = b.broker.open(t);
    const forged = {
      type: "hello",
      id: "h3",
      challenge: t.frames[0]?.challenge,
      meshId: m.meshId,
      memberId: m.memberId,
      pubkey: m.pubkey,
      sessionPubkey: generateSigningKeyPair().publicKey,
      timestamp: Date.now(),
    };
    await b.broker.message(conn, JSON.stringify({ ...forged, signature: `${"A".repeat(86)}==`, sessionSignature: `${"A".repeat(86)}==` }));
    expect(t.frames.at(-1)).toMatchObject({ type: "error", code: "rate_limited", id: "h3" });
    expect(t.frames.at(-1).retryAfterMs).toBeGreaterThan(0);
    expect(t.closedWith()).toBe(4029);
    // another member still gets in
    await inProcessSession(b, await addMember(b, mesh, "Calm"));
  });

  test("connections are budgeted per address; a client over it backs off by the hint and comes back", async () => {
    const m = await addMember(b, mesh, "Roamer");
    const c = await connect(m, { session: generateSigningKeyPair() });
    // use up the address's budget (burst 2, one a second back), so the client's reconnect is refused at first
    const sockets = [];
    let refused: any;
    while (!refused) {
      const s = await rawSocket(b);
      sockets.push(s);
      // an admitted socket answers a frame before hello with not_authenticated; a refused one said rate_limited first
      s.ws.send(JSON.stringify({ type: "list_peers", id: "probe" }));
      const first = await s.next((f) => f.type === "error");
      refused = first.code === "rate_limited" ? first : null;
      if (refused) expect(await s.closed).toBe(4029);
    }
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    let fatal = false;
    c.on("fatal", () => void (fatal = true));
    const back = c.once("connected");
    c.dropConnection();
    const [, reconnect] = await back;
    expect(reconnect).toBe(true);
    expect(fatal).toBe(false);
    for (const s of sockets) s.ws.close();
  });
});
