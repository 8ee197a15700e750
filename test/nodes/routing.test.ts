import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { brokerRequest } from "../../src/client/http.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { HealthResponse } from "../../src/nodes/api.ts";
import { nodeChannel } from "../../src/nodes/link.ts";
import { PG_URL } from "../helpers/backends.ts";
import { addMember, closeClients, createMesh, type TestMesh } from "../helpers/broker.ts";
import { recordFrames } from "../helpers/frames.ts";
import { flush, messagingPeer, peersOf, type TestPeer, texts, waitForPeer } from "../helpers/messaging.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";
import { sessionFiles, startS3 } from "../helpers/files.ts";
import { tempDir } from "../helpers/backends.ts";

const nodeId = async (b: ProcessBroker) => (await brokerRequest(b.url, "GET", "/healthz", HealthResponse)).node.id;

afterAll(() => closeClients());

/** Waits for `n` more messages on a peer, in arrival order. */
async function take(p: TestPeer, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) out.push((await p.next()).text);
  return out;
}

describe.if(PG_URL !== undefined && PG_URL !== "")("three broker processes on one Postgres are one mesh", () => {
  const nodes: ProcessBroker[] = [];
  let mesh: TestMesh;
  let sql: SQL;
  suiteFixture(async (stack) => {
    const a = stack.use(new ProcessBroker("postgres"));
    await a.start();
    const b = stack.use(new ProcessBroker("postgres", { shareSchema: a.schema as string }));
    const c = stack.use(new ProcessBroker("postgres", { shareSchema: a.schema as string }));
    await Promise.all([b.start(), c.start()]);
    nodes.push(a, b, c);
    mesh = await createMesh(a, "routing");
    sql = new SQL(PG_URL as string);
    stack.defer(() => sql.close());
  }, 60_000);
  /** A session of a new member of the mesh, connected to node `i`. */
  const peerOn = async (i: number, name: string, opts: Parameters<typeof messagingPeer>[1] = {}) => {
    const node = nodes[i] as ProcessBroker;
    return messagingPeer({ ...(await addMember(node, mesh, name)), brokerUrl: node.url }, opts);
  };

  test("sessions on different nodes see each other live, and every message kind and priority reaches them", async () => {
    const alice = await peerOn(0, "Alice");
    const bob = await peerOn(1, "Bob", { groups: [{ name: "dev", role: null }] });
    const carol = await peerOn(2, "Carol", { groups: [{ name: "dev", role: "lead" }] });

    // presence: names, groups, status and summary cross the nodes
    for (const [observer, name] of [
      [alice, "Bob"],
      [alice, "Carol"],
      [bob, "Carol"],
      [carol, "Alice"],
    ] as const)
      await waitForPeer(observer, name);
    const seenByAlice = (await peersOf(alice)).find((p) => p.name === "Carol");
    expect(seenByAlice?.groups).toEqual([{ name: "dev", role: "lead" }]);
    await bob.client.request({ type: "set_summary", summary: "reviewing the parser" }, "ok");
    await bob.client.request({ type: "set_status", status: "working" }, "ok");
    const busyBob = await waitForPeer(alice, "Bob", "working");
    expect(busyBob.summary).toBe("reviewing the parser");

    // direct, both ways and between two remote nodes
    await alice.messenger.send("Carol", "direct a→c", "now");
    expect(await take(carol, 1)).toEqual(["direct a→c"]);
    await carol.messenger.send("Alice", "direct c→a", "now");
    expect(await take(alice, 1)).toEqual(["direct c→a"]);

    // priorities are held by the recipient's node as on one node: Bob is working, so `next` waits
    const held = await alice.messenger.send("Bob", "next while working", "next");
    const low = await alice.messenger.send("Bob", "low", "low");
    await alice.messenger.send("Bob", "now while working", "now");
    expect(await take(bob, 1)).toEqual(["now while working"]);
    await bob.client.request({ type: "set_status", status: "idle" }, "ok");
    expect(await take(bob, 1)).toEqual(["next while working"]);
    await flush(alice, bob);
    expect(texts(bob)).not.toContain("low");
    const drained = await bob.client.request({ type: "fetch_queued" }, "queued_messages");
    expect(drained.messages.map((m) => m.messageId)).toContain(low.messageId);

    // message_status, read on the sender's node, of a delivery on another node
    await waitUntil("the held message's receipt crossed the nodes", async () => {
      const s = await alice.client.request({ type: "message_status", messageId: held.messageId }, "message_status_result");
      return s.delivered ? s : undefined;
    });

    // @group, broadcast and several targets
    const group = await alice.messenger.send("@dev", "to dev", "now");
    expect(group.recipients.map((r) => r.name).sort()).toEqual(["Bob", "Carol"]);
    expect(await take(bob, 1)).toEqual(["to dev"]);
    expect(await take(carol, 1)).toEqual(["to dev"]);
    await carol.messenger.send("*", "to everyone", "now");
    expect(await take(alice, 1)).toEqual(["to everyone"]);
    expect(await take(bob, 1)).toEqual(["to everyone"]);
    await bob.messenger.send(["Alice", "Carol"], "to two", "now");
    expect(await take(alice, 1)).toEqual(["to two"]);
    expect(await take(carol, 1)).toEqual(["to two"]);

    // a recipient's messages arrive in order, across nodes
    const sent = Array.from({ length: 30 }, (_, i) => `ordered ${i}`);
    for (const t of sent) await alice.messenger.send("Carol", t, "now");
    expect(await take(carol, 30)).toEqual(sent);

    // a session leaving one node is gone from the others' view
    bob.client.close();
    await waitUntil("Bob left Alice's view", async () => ((await peersOf(alice)).some((p) => p.name === "Bob") ? undefined : true));
  }, 90_000);

  test("state_change pushes cross nodes, and concurrent writers of one key on different nodes converge on the stored value", async () => {
    const writers = [await peerOn(1, "W1"), await peerOn(2, "W2")];
    const observers = await Promise.all([0, 1, 2].map((i) => peerOn(i, `Obs${i}`)));
    const logs = observers.map((o) => recordFrames(o.client));
    for (const o of observers) for (const w of ["W1", "W2"]) await waitForPeer(o, w);

    await writers[0]?.client.request({ type: "set_state", key: "plan", value: { step: 1 } }, "state_result");
    for (const log of logs) expect((await log.waitFor("state_change", (f) => f.key === "plan")).value).toEqual({ step: 1 });

    // both writers hammer one key at once, each on its own node
    await Promise.all(
      writers.map((w, n) =>
        Promise.all(Array.from({ length: 25 }, (_, i) => w.client.request({ type: "set_state", key: "race", value: { n, i } }, "state_result"))),
      ),
    );
    const read = (o: TestPeer) => o.client.request({ type: "get_state", key: "race" }, "state_result");
    const stored = await read(observers[0] as TestPeer);
    for (const o of observers.slice(1)) expect((await read(o)).value).toEqual(stored.value);
    // every observer's last push for the key is the stored value (a stale push arriving late would differ)
    for (const [i, log] of logs.entries()) {
      await waitUntil(`observer ${i} ends on the stored value`, async () => {
        const last = log
          .of("state_change")
          .filter((f) => f.key === "race")
          .at(-1);
        return last && JSON.stringify(last.value) === JSON.stringify(stored.value) ? true : undefined;
      });
    }
    // and stays there: nothing older trails in (flushed by a marker after every node's forwards)
    await writers[0]?.client.request({ type: "set_state", key: "marker", value: 1 }, "state_result");
    for (const log of logs) await log.waitFor("state_change", (f) => f.key === "marker");
    for (const log of logs)
      expect(
        JSON.stringify(
          log
            .of("state_change")
            .filter((f) => f.key === "race")
            .at(-1)?.value,
        ),
      ).toBe(JSON.stringify(stored.value));
  }, 90_000);

  test("a LISTEN connection terminated in Postgres loses nothing: every message sent meanwhile arrives, in order", async () => {
    const sender = await peerOn(0, "Sender");
    const receiver = await peerOn(1, "Receiver");
    await waitForPeer(sender, "Receiver");
    const channel = nodeChannel(await nodeId(nodes[1] as ProcessBroker));
    const listening = async () =>
      (await sql`SELECT pid FROM pg_stat_activity WHERE query = ${`LISTEN "${channel}"`} OR query = ${`LISTEN ${channel}`}`) as { pid: number }[];
    const before = await listening();
    expect(before.length).toBe(1);
    await sql`SELECT pg_terminate_backend(${before[0]?.pid as number})`;
    const sent = Array.from({ length: 20 }, (_, i) => `while deaf ${i}`);
    for (const t of sent) await sender.messenger.send("Receiver", t, "now");
    expect(await take(receiver, 20)).toEqual(sent);
    // and the node listens again
    await waitUntil("node B listens again", async () => ((await listening()).some((r) => r.pid !== before[0]?.pid) ? true : undefined), 20_000);
  }, 60_000);

  test("a session that moves to another node is replaced there, and sees each message once", async () => {
    const sender = await peerOn(0, "Mover-sender");
    const session = generateSigningKeyPair();
    const member = await addMember(nodes[1] as ProcessBroker, mesh, "Mover");
    const first = await messagingPeer({ ...member, brokerUrl: (nodes[1] as ProcessBroker).url }, { session, reconnect: false });
    await waitForPeer(sender, "Mover");
    const before = await sender.messenger.send("Mover", "before the move", "now");
    expect(await take(first, 1)).toEqual(["before the move"]);
    // two Messengers stand for one client here, so its receipt must be stored before the move (one client
    // moving keeps its Messenger, which drops a redelivered id itself)
    await waitUntil("the receipt is stored", async () => {
      const s = await sender.client.request({ type: "message_status", messageId: before.messageId }, "message_status_result");
      return s.delivered ? true : undefined;
    });

    // the same session key connects to node C: node B's socket is closed as replaced
    const closed = new Promise<number>((resolve) => first.client.on("disconnected", (code) => resolve(code)));
    const moved = await messagingPeer({ ...member, brokerUrl: (nodes[2] as ProcessBroker).url }, { session });
    expect(await closed).toBe(4002);
    // sent before the sender's node heard of the move: its wake-up goes to node B, which passes it on (or
    // node C's catch-up finds it in the queue)
    await sender.messenger.send("Mover", "during the move", "now");
    const movedId = moved.client.ack?.presenceId;
    await waitUntil("the sender sees Mover on node C only", async () => {
      const movers = (await peersOf(sender)).filter((p) => p.name === "Mover");
      return movers.length === 1 && movers[0]?.presenceId === movedId ? true : undefined;
    });
    await sender.messenger.send("Mover", "after the move", "now");
    expect((await take(moved, 2)).sort()).toEqual(["after the move", "during the move"]);
    await flush(sender, moved);
    expect(texts(moved).sort()).toEqual(["after the move", "during the move"]);
    expect(texts(first)).toEqual(["before the move"]);
  }, 60_000);
});

describe.if(PG_URL !== undefined && PG_URL !== "")("two broker processes on one Postgres and one S3", () => {
  test("a file attached to a message on one node downloads, byte for byte, from the recipient's node", async () => {
    await using s3 = await startS3();
    const env = { S3_ENDPOINT: s3.config.endpoint, S3_ACCESS_KEY: s3.config.accessKey, S3_SECRET_KEY: s3.config.secretKey };
    await using a = new ProcessBroker("postgres", { env });
    await a.start();
    await using b = new ProcessBroker("postgres", { shareSchema: a.schema as string, env });
    await b.start();
    const mesh = await createMesh(a, "files-nodes");
    const alice = await messagingPeer({ ...(await addMember(a, mesh, "Alice")), brokerUrl: a.url });
    const bob = await messagingPeer({ ...(await addMember(a, mesh, "Bob")), brokerUrl: b.url });
    await waitForPeer(alice, "Bob");

    using dir = tempDir("cm-nodes-files-");
    const bytes = crypto.getRandomValues(new Uint8Array(200_000));
    await Bun.write(`${dir.path}/report.bin`, bytes);
    const file = await sessionFiles(a, alice.client).upload(`${dir.path}/report.bin`, { to: "Bob" });
    await alice.messenger.send("Bob", `see ${file.id}`, "now");
    expect((await bob.next()).text).toBe(`see ${file.id}`);
    const { path } = await sessionFiles(b, bob.client).download(file.id, `${dir.path}/got.bin`);
    expect(new Uint8Array(await Bun.file(path).arrayBuffer())).toEqual(bytes);
  }, 60_000);
});
