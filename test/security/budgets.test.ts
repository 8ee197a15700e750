import { afterEach, describe, expect, test } from "bun:test";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { backends } from "../helpers/backends.ts";
import { signHello, type UnsignedHello } from "../../src/client/hello-sign.ts";
import { addMember, closeClients, connect, createMesh, rawSocket, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { inProcessSession, recordingTransport } from "../helpers/in-process.ts";

describe.each(backends())("per-member and per-address budgets on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend, { frameRatePerSec: 100_000, memberFrameRatePerSec: 10, helloRatePerMember: 1, connectRatePerAddress: 1 }));
    mesh = await createMesh(b, "budgets");
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

  /** A hello on a fresh in-process connection, signed with the member's key unless `forge` is set. */
  async function helloOn(m: MeshConfig, forge = false, address?: string, on: TestBroker = b) {
    const t = recordingTransport();
    const conn = on.broker.open(t, address);
    const session = generateSigningKeyPair();
    const unsigned = {
      type: "hello",
      id: "h",
      challenge: t.frames[0]?.challenge,
      meshId: m.meshId,
      memberId: m.memberId,
      pubkey: m.pubkey,
      sessionPubkey: session.publicKey,
      timestamp: Date.now(),
    } as UnsignedHello;
    const signed = signHello(unsigned, forge ? generateSigningKeyPair().secretKey : m.secretKey, session.secretKey);
    await on.broker.message(conn, JSON.stringify(signed));
    return { answer: t.frames.at(-1), closedWith: t.closedWith(), close: () => on.broker.close(conn) };
  }

  test("hellos are budgeted per member: over the budget a valid hello is rate_limited with a retry hint", async () => {
    const m = await addMember(b, mesh, "Restless");
    // burst of 2: two hellos get in, the third is refused
    const open = [await helloOn(m), await helloOn(m)];
    for (const h of open) expect(h.answer).toMatchObject({ type: "hello_ack" });
    const third = await helloOn(m);
    expect(third.answer).toMatchObject({ type: "error", code: "rate_limited", id: "h" });
    expect(third.answer.retryAfterMs).toBeGreaterThan(0);
    expect(third.closedWith).toBe(4029);
    // another member still gets in
    await inProcessSession(b, await addMember(b, mesh, "Calm"));
    for (const h of open) await h.close();
  });

  test("forged hellos do not spend the member's budget, so knowing a member id cannot lock that member out", async () => {
    const m = await addMember(b, mesh, "Targeted");
    for (let i = 0; i < 6; i++) {
      const forged = await helloOn(m, true);
      expect(forged.answer).toMatchObject({ type: "error", code: "bad_member_signature" });
      expect(forged.closedWith).toBe(4001);
    }
    // the member's whole burst is still there (each forged hello ended its socket; sockets are budgeted per address)
    const open = [await helloOn(m), await helloOn(m)];
    for (const h of open) expect(h.answer).toMatchObject({ type: "hello_ack" });
    for (const h of open) await h.close();
  });

  test("a flood of hellos from one address is refused before verifying; the member gets in from its own address", async () => {
    // the address budget lifted, so only the hello budgets are in play
    await using wide = await startTestBroker(backend, { helloRatePerMember: 1 });
    const m = await addMember(wide, await createMesh(wide, "wide"), "Elsewhere");
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await helloOn(m, true, "10.0.0.66", wide)).answer);
    // the first two forged hellos were verified (and failed); the rest were refused without verifying
    expect(answers.map((a) => a.code)).toEqual(["bad_member_signature", "bad_member_signature", "rate_limited", "rate_limited"]);
    expect(answers[2].message).toContain("too many hellos");
    const home = await helloOn(m, false, "10.0.0.7", wide);
    expect(home.answer).toMatchObject({ type: "hello_ack" });
    await home.close();
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
