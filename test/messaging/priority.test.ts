import { afterEach, describe, expect, test } from "bun:test";
import type { Status } from "../../src/protocol/common.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, closeClients, createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { flush, messagingPeer, texts } from "../helpers/messaging.ts";
import { Scrape } from "../helpers/prometheus.ts";

describe.each(backends())("priority × status on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let n = 0;

  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "prio");
  });
  afterEach(() => closeClients());

  async function pair(status: Status) {
    n++;
    const alice = await messagingPeer(await addMember(b, mesh, `Alice${n}`));
    const bob = await messagingPeer(await addMember(b, mesh, `Bob${n}`), { status });
    return { alice, bob, bobName: `Bob${n}` };
  }

  test("idle: now and next are pushed at once, low is held and counted", async () => {
    const { alice, bob, bobName } = await pair("idle");
    await alice.messenger.send(bobName, "low one", "low");
    await alice.messenger.send(bobName, "next one", "next");
    await alice.messenger.send(bobName, "now one", "now");
    const first = await bob.next();
    expect(first).toMatchObject({ text: "next one", priority: "next", lowPending: 1 });
    expect(await bob.next()).toMatchObject({ text: "now one", priority: "now", lowPending: 1 });
    const { messages: drained } = await bob.messenger.drain();
    expect(drained.map((m) => m.text)).toEqual(["low one", "next one", "now one"]);
  });

  test.each(["working", "dnd"] as const)("%s: only now is pushed; next flushes the moment the status becomes idle; low never", async (status) => {
    const { alice, bob, bobName } = await pair(status);
    await alice.messenger.send(bobName, "low one", "low");
    await alice.messenger.send(bobName, "next one", "next");
    await alice.messenger.send(bobName, "now one", "now");
    // `now one` was sent last: once it is here, a pushed `next`/`low` would already be here too.
    expect(await bob.next()).toMatchObject({ text: "now one", lowPending: 1 });
    expect(texts(bob)).toEqual(["now one"]);
    await bob.client.request({ type: "set_status", status: "idle" });
    expect(await bob.next()).toMatchObject({ text: "next one", lowPending: 1 });
    await flush(alice, bob);
    expect(texts(bob)).toEqual(["now one", "next one"]);
  });

  test("low is drained by check_messages exactly once and then surfaced", async () => {
    const { alice, bob, bobName } = await pair("idle");
    const sent = await alice.messenger.send(bobName, "fyi", "low");
    const { messages: first } = await bob.messenger.drain();
    expect(first.map((m) => m.text)).toEqual(["fyi"]);
    bob.messenger.markSurfaced(first.map((m) => m.messageId));
    expect(await bob.messenger.drain()).toEqual({ messages: [], more: 0 });
    await flush(alice, bob);
    expect(texts(bob)).toEqual([]);
    const status = await alice.messenger.status(sent.messageId);
    expect(status.recipients[0]).toMatchObject({ name: bobName, status: "surfaced" });
    expect(status.recipients[0]?.surfacedAt).toBeNumber();
  });

  test("a paged drain: the oldest that fit and how many more; what is not shown stays queued, for the next page and for a new process of the session", async () => {
    const { alice, bob, bobName } = await pair("idle");
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) sent.push((await alice.messenger.send(bobName, `low ${i} ${"·".repeat(300)}`, "low")).messageId);
    // one message's worth of room: a page holds one (at least one, whatever the room)
    const first = await bob.messenger.drain(1);
    expect({ ids: first.messages.map((m) => m.messageId), more: first.more }).toEqual({ ids: sent.slice(0, 1), more: 5 });
    bob.messenger.markSurfaced([sent[0] as string]);
    // room for a few (each is ~1.3 KB of JSON on the wire): the second page starts after the one shown
    const second = await bob.messenger.drain(4_000);
    const k = second.messages.length;
    expect(k).toBeGreaterThanOrEqual(2);
    expect({ ids: second.messages.map((m) => m.messageId), more: second.more }).toEqual({ ids: sent.slice(1, 1 + k), more: 5 - k });
    bob.messenger.markSurfaced([sent[1] as string]);
    // sent[2] (and any after it in that page) was handed out but never shown: the broker still holds it
    await bob.client.request({ type: "list_peers" }, "peers_list");
    const status = async (id: string) => (await alice.messenger.status(id)).recipients[0]?.status;
    expect([await status(sent[1] as string), await status(sent[2] as string)]).toEqual(["surfaced", "queued"]);
    // the session's next mcp process (same session key) gets every message not yet shown, and no other
    bob.client.close();
    const again = await messagingPeer(bob.member, { session: bob.session });
    const rest = await again.messenger.drain();
    expect(rest.messages.map((m) => m.messageId)).toEqual(sent.slice(2));
    expect(rest.more).toBe(0);
  });

  test("a held next message is counted as low-pending nowhere and flushed in order with others", async () => {
    const { alice, bob, bobName } = await pair("working");
    await alice.messenger.send(bobName, "n1", "next");
    await alice.messenger.send(bobName, "n2", "next");
    await alice.messenger.send(bobName, "n3", "next");
    await bob.client.request({ type: "set_status", status: "idle" });
    const got = [await bob.next(), await bob.next(), await bob.next()];
    expect(got.map((m) => m.text)).toEqual(["n1", "n2", "n3"]);
    expect(got.every((m) => m.lowPending === 0)).toBe(true);
  });
  test("each push counts the lows still queued: stored since, handed out by a drain, acknowledged", async () => {
    const { alice, bob, bobName } = await pair("idle");
    await alice.messenger.send(bobName, "low 1", "low");
    await alice.messenger.send(bobName, "low 2", "low");
    await alice.messenger.send(bobName, "next 1", "next");
    expect(await bob.next()).toMatchObject({ text: "next 1", lowPending: 2 });
    // the drain hands the lows out and Bob shows them, which acknowledges them: none is waiting any more
    const { messages: drained } = await bob.messenger.drain();
    expect(drained.map((m) => m.text)).toEqual(["low 1", "low 2", "next 1"]);
    bob.messenger.markSurfaced(drained.map((m) => m.messageId));
    await bob.client.request({ type: "list_peers" }); // Bob's frames are handled in order: his receipts are stored
    await alice.messenger.send(bobName, "next 2", "next");
    expect(await bob.next()).toMatchObject({ text: "next 2", lowPending: 0 });
    await alice.messenger.send(bobName, "low 3", "low");
    await alice.messenger.send(bobName, "now 1", "now");
    expect(await bob.next()).toMatchObject({ text: "now 1", lowPending: 1 });
  });

  test("messages stored within one millisecond drain in the order they were sent, pushed or held", async () => {
    // the broker's clock stands still: every message carries the same time, only the ids can order them
    await using still = await startTestBroker(backend, {}, undefined, { clock: new ManualClock() });
    const m = await createMesh(still, "still");
    const alice = await messagingPeer(await addMember(still, m, "Alice"));
    const bob = await messagingPeer(await addMember(still, m, "Bob"));
    const sent = ["low 1", "next 1", "low 2", "now 1", "low 3", "next 2"];
    for (const text of sent) await alice.messenger.send("Bob", text, text.split(" ")[0] as "low" | "next" | "now");
    await flush(alice, bob);
    const drained = (await bob.messenger.drain()).messages.filter((x) => x.text !== "marker");
    expect(new Set(drained.map((x) => x.createdAt)).size).toBe(1);
    expect(drained.map((x) => x.text)).toEqual(sent);
  });

  test("a push sent from memory right after the store reads no queue", async () => {
    const { alice, bob, bobName } = await pair("idle");
    await flush(alice, bob);
    const reads = async () => {
      const res = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${b.adminToken}` } });
      return new Scrape(await res.text()).count("claudemesh_db_queue_read_seconds");
    };
    const before = await reads();
    for (let i = 0; i < 30; i++) {
      await alice.messenger.send(bobName, `m${i}`, "now");
      expect((await bob.next()).text).toBe(`m${i}`);
    }
    expect((await reads()) - before).toBe(0);
  });
});
