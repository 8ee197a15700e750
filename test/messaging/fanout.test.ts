import { afterEach, describe, expect, test } from "bun:test";
import { backends } from "../helpers/backends.ts";
import { addMember, closeClients, createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { messagingPeer, texts, type TestPeer } from "../helpers/messaging.ts";
import { waitUntil } from "../helpers/wait.ts";

// A broadcast pushes its recipients a slice per turn of the event loop (FANOUT_SLICE, 128): the
// recipients of the later slices must still see it exactly once, and before anything sent after it.
describe.each(backends())("a broadcast's fan-out on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;

  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend, { helloRatePerMember: 10_000 }));
    mesh = await createMesh(b, "fanout");
  });
  afterEach(() => closeClients());

  test("300 recipients each get it once, and the last slice's sessions get their pushes in queue order", async () => {
    const alice = await messagingPeer(await addMember(b, mesh, "Alice"));
    const bob = await messagingPeer(await addMember(b, mesh, "Bob"));
    const crowd = await addMember(b, mesh, "Crowd");
    const listeners: TestPeer[] = [];
    for (let i = 0; i < 300; i++) listeners.push(await messagingPeer(crowd, { displayName: `l${i}` }));
    const last = listeners[299] as TestPeer;
    const lastKey = last.client.sessionPubkey;
    const waves: { messageId: string }[] = [];
    for (let round = 0; round < 3; round++) {
      // Sent together from two sessions, the two share a transaction: the direct one is routed while the
      // broadcast's later slices still wait for their turn, and must not overtake it where it was queued first.
      const [wave, direct] = await Promise.all([alice.messenger.send("*", `wave ${round}`, "now"), bob.messenger.send("l299", `direct ${round}`, "now")]);
      expect(wave.recipients).toHaveLength(301);
      waves.push(wave);
      expect(direct.recipients.map((r) => r.name)).toEqual(["l299"]);
    }
    await waitUntil("every push", () => (listeners.every((l) => l.inbox.length >= 3) && last.inbox.length >= 6) || undefined, 20_000);
    for (const l of listeners.slice(0, 299)) expect(texts(l)).toEqual(["wave 0", "wave 1", "wave 2"]);
    const queued = (await b.store.sql`SELECT message_id FROM message_recipient WHERE session_pubkey = ${lastKey} ORDER BY seq`) as { message_id: string }[];
    expect(last.inbox.map((m) => m.messageId)).toEqual(queued.map((r) => r.message_id));
    expect(texts(last).sort()).toEqual(["direct 0", "direct 1", "direct 2", "wave 0", "wave 1", "wave 2"]);
    // the receipts that waited for the fan-out's later slices are all stored
    await waitUntil(
      "every receipt stored",
      async () => (await alice.messenger.status(waves[2]?.messageId ?? "")).recipients.every((r) => r.status === "delivered") || undefined,
      20_000,
    );
  }, 60_000);
});
