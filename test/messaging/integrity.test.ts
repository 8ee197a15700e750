import { afterEach, describe, expect, test } from "bun:test";
import { sealDirect } from "../../src/crypto/envelope.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, closeClients, connect, createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { flush, messagingPeer, texts } from "../helpers/messaging.ts";

const count = async (b: TestBroker, table: "message" | "message_recipient") => Number((await b.store.sql.unsafe(`SELECT count(*) AS n FROM ${table}`))[0].n);

describe.each(backends())("message integrity, status and limits on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let n = 0;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend, { maxMessageBytes: 4096, sendRatePerSec: 5 }));
    mesh = await createMesh(b, "integrity");
  });
  afterEach(() => closeClients());

  async function pair() {
    n++;
    const aliceMember = await addMember(b, mesh, `Alice${n}`);
    const bobSession = generateSigningKeyPair();
    const bob = await messagingPeer(await addMember(b, mesh, `Bob${n}`), { session: bobSession });
    const aliceSession = generateSigningKeyPair();
    const alice = await messagingPeer(aliceMember, { session: aliceSession });
    return { alice, aliceMember, aliceSession, bob, bobSession, bobName: `Bob${n}` };
  }

  test("replaying a send with the same client id creates nothing new", async () => {
    const { alice, bob, bobName, aliceSession } = await pair();
    const env = sealDirect("replayed", bob.client.sessionPubkey, aliceSession.secretKey);
    const frame = {
      type: "send" as const,
      clientId: "cmsg_fixed",
      to: bobName,
      priority: "now" as const,
      kind: "direct" as const,
      envelopes: [{ sessionPubkey: bob.client.sessionPubkey, ...env }],
    };
    const first = await alice.client.request(frame, "ack");
    const [m0, r0] = [await count(b, "message"), await count(b, "message_recipient")];
    const second = await alice.client.request(frame, "ack");
    const third = await alice.client.request({ ...frame, to: "*", kind: "group", envelopes: undefined, group: env }, "ack");
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ duplicate: true, messageId: first.messageId });
    expect(third).toMatchObject({ duplicate: true, messageId: first.messageId });
    expect([await count(b, "message"), await count(b, "message_recipient")]).toEqual([m0, r0]);
    await flush(alice, bob);
    expect(texts(bob)).toEqual(["replayed"]);
  });

  test("a tampered ciphertext or nonce is not trusted by the recipient", async () => {
    const { alice, bob, bobName, aliceSession } = await pair();
    const good = sealDirect("original text", bob.client.sessionPubkey, aliceSession.secretKey);
    const ct = Buffer.from(good.ciphertext, "base64");
    ct[ct.length - 1] = (ct[ct.length - 1] ?? 0) ^ 1;
    const nonce = Buffer.from(good.nonce, "base64");
    nonce[0] = (nonce[0] ?? 0) ^ 1;
    const variants = [
      { ...good, ciphertext: ct.toString("base64") },
      { ...good, nonce: nonce.toString("base64") },
    ];
    for (const [i, v] of variants.entries()) {
      await alice.client.request(
        {
          type: "send",
          clientId: `cmsg_t${n}_${i}`,
          to: bobName,
          priority: "now",
          kind: "direct",
          envelopes: [{ sessionPubkey: bob.client.sessionPubkey, ...v }],
        },
        "ack",
      );
      const m = await bob.next();
      expect(m.authenticated).toBe(false);
      expect(m.text).not.toBe("original text");
    }
  });

  test("the spec's base64 fallback decodes, flagged unauthenticated", async () => {
    const { alice, bob, bobName } = await pair();
    const plain = Buffer.from("legacy plaintext").toString("base64");
    await alice.client.request(
      {
        type: "send",
        clientId: `cmsg_b64_${n}`,
        to: bobName,
        priority: "now",
        kind: "direct",
        envelopes: [{ sessionPubkey: bob.client.sessionPubkey, nonce: Buffer.alloc(24).toString("base64"), ciphertext: plain }],
      },
      "ack",
    );
    expect(await bob.next()).toMatchObject({ text: "legacy plaintext", authenticated: false });
  });

  test("a direct send must carry an envelope for every recipient session", async () => {
    const { alice, bobName } = await pair();
    await expect(
      alice.client.request({ type: "send", clientId: "cmsg_noenv", to: bobName, priority: "now", kind: "direct", envelopes: [] }),
    ).rejects.toMatchObject({ code: "missing_envelope" });
    await expect(alice.client.request({ type: "send", clientId: "cmsg_grp", to: "@x", priority: "now", kind: "direct", envelopes: [] })).rejects.toMatchObject({
      code: "invalid_frame",
    });
  });

  test("message_status goes queued → delivered → surfaced, and only the sender's member may ask", async () => {
    const { alice, aliceMember, bob, bobName } = await pair();
    await bob.client.request({ type: "set_status", status: "working" });
    const sent = await alice.messenger.send(bobName, "track me", "next");
    const s1 = await alice.messenger.status(sent.messageId);
    expect(s1).toMatchObject({ delivered: false, recipients: [{ name: bobName, status: "queued", deliveredAt: null, surfacedAt: null }] });
    await bob.client.request({ type: "set_status", status: "idle" });
    const m = await bob.next();
    await bob.client.request({ type: "list_peers" }); // Bob's frames are handled in order: his receipt is stored
    const s2 = await alice.messenger.status(sent.messageId);
    expect(s2.recipients[0]).toMatchObject({ status: "delivered" });
    expect(s2.delivered).toBe(true);
    bob.messenger.markSurfaced([m.messageId]);
    await bob.client.request({ type: "list_peers" }); // frames of one connection are handled in order
    const s3 = await alice.messenger.status(sent.messageId);
    expect(s3.recipients[0]?.status).toBe("surfaced");
    expect(s3.recipients[0]?.surfacedAt).toBeGreaterThanOrEqual(s3.recipients[0]?.queuedAt ?? 0);

    // Bob (the recipient) and anyone from another mesh get not_found, as for a message that does not exist.
    await expect(bob.messenger.status(sent.messageId)).rejects.toMatchObject({ code: "not_found" });
    const other = await createMesh(b, `other${n}-${backend}`);
    const eve = await connect(await addMember(b, other, "Eve"));
    await expect(eve.request({ type: "message_status", messageId: sent.messageId })).rejects.toMatchObject({ code: "not_found" });
    // A second session of Alice's own member may ask.
    const alice2 = await connect(aliceMember, { displayName: `Alice${n}-2` });
    expect((await alice2.request({ type: "message_status", messageId: sent.messageId }, "message_status_result")).messageId).toBe(sent.messageId);
  });

  test("messages over the size limit are refused with a clear error and not stored", async () => {
    const { alice, bobName } = await pair();
    const before = await count(b, "message");
    await expect(alice.messenger.send(bobName, "x".repeat(5000), "now")).rejects.toMatchObject({
      code: "message_too_large",
      message: expect.stringContaining("4096"),
    });
    expect(await count(b, "message")).toBe(before);
  });

  test("the per-connection send rate is limited with a clear error", async () => {
    const { alice, bobName, bob } = await pair();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => alice.messenger.send(bobName, `burst ${i}`, "low")));
    const limited = results.filter((r) => r.status === "rejected");
    expect(limited.length).toBeGreaterThan(0);
    expect((limited[0] as PromiseRejectedResult).reason).toMatchObject({ code: "rate_limited" });
    // Accepted sends were all stored; rejected ones were not.
    const { messages: drained } = await bob.messenger.drain();
    expect(drained.length).toBe(results.length - limited.length);
  });

  test("undelivered messages expire after the TTL", async () => {
    const clock = new ManualClock();
    await using short = await startTestBroker(backend, { messageTtlMs: 50 }, undefined, { clock });
    const m = await createMesh(short, "ttl");
    const alice = await messagingPeer(await addMember(short, m, "Alice"));
    const bob = await messagingPeer(await addMember(short, m, "Bob"), { status: "working" });
    const sent = await alice.messenger.send("Bob", "too late", "next");
    clock.advance(60); // past the TTL
    await short.broker.housekeeping();
    const st = await alice.messenger.status(sent.messageId);
    expect(st.recipients[0]).toMatchObject({ status: "expired" });
    expect(st.recipients[0]?.expiredAt).toBeNumber();
    await bob.client.request({ type: "set_status", status: "idle" });
    expect(await bob.messenger.drain()).toEqual({ messages: [], more: 0 });
  });

  test("a low message that expired is no longer counted in the pushes that follow", async () => {
    const clock = new ManualClock();
    await using short = await startTestBroker(backend, { messageTtlMs: 50 }, undefined, { clock });
    const m = await createMesh(short, "ttl-low");
    const alice = await messagingPeer(await addMember(short, m, "Alice"));
    const bob = await messagingPeer(await addMember(short, m, "Bob"));
    await alice.messenger.send("Bob", "fyi", "low");
    await alice.messenger.send("Bob", "first", "now");
    expect(await bob.next()).toMatchObject({ text: "first", lowPending: 1 });
    clock.advance(60); // past the TTL of both
    await short.broker.housekeeping();
    await alice.messenger.send("Bob", "second", "now");
    expect(await bob.next()).toMatchObject({ text: "second", lowPending: 0 });
  });
});
