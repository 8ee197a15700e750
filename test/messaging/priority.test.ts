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
    const drained = await bob.messenger.drain();
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
    const first = await bob.messenger.drain();
    expect(first.map((m) => m.text)).toEqual(["fyi"]);
    bob.messenger.markSurfaced(first.map((m) => m.messageId));
    expect(await bob.messenger.drain()).toEqual([]);
    await flush(alice, bob);
    expect(texts(bob)).toEqual([]);
    const status = await alice.messenger.status(sent.messageId);
    expect(status.recipients[0]).toMatchObject({ name: bobName, status: "surfaced" });
    expect(status.recipients[0]?.surfacedAt).toBeNumber();
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
    // the drain hands the lows out and Bob acknowledges them: none is waiting any more
    expect((await bob.messenger.drain()).map((m) => m.text)).toEqual(["low 1", "low 2", "next 1"]);
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
    const drained = (await bob.messenger.drain()).filter((x) => x.text !== "marker");
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
