import { afterEach, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { backends, PG_URL } from "../helpers/backends.ts";
import { addMember, closeClients, connect, createMesh, startTestBroker } from "../helpers/broker.ts";
import { flush, messagingPeer, texts } from "../helpers/messaging.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";
import { waitUntil } from "../helpers/wait.ts";

describe.each(backends())("durable delivery on %s", (backend) => {
  afterEach(() => closeClients());

  test("kill -9 after ack and before delivery: the message arrives exactly once after restart", async () => {
    await using pb = new ProcessBroker(backend);
    await pb.start();
    const mesh = await createMesh(pb, "durable");
    const alice = await messagingPeer(await addMember(pb, mesh, "Alice"));
    const bob = await messagingPeer(await addMember(pb, mesh, "Bob"), { status: "working" });

    // Bob is working, so a `next` message is stored and acknowledged but not delivered.
    const sent = await alice.messenger.send("Bob", "survives kill -9", "next");
    expect(sent.duplicate).toBe(false);
    const reconnected = Promise.all([alice.client.once("connected"), bob.client.once("connected")]);
    await pb.kill9();
    await pb.start();
    await reconnected; // both clients reconnect by themselves, keeping their session keys

    await bob.client.request({ type: "set_status", status: "idle" });
    const got = await bob.next();
    expect(got).toMatchObject({ messageId: sent.messageId, text: "survives kill -9", authenticated: true });
    await flush(alice, bob);
    expect(texts(bob)).toEqual(["survives kill -9"]);
    await bob.client.request({ type: "list_peers" }); // Bob's frames are handled in order: his receipt is stored
    const status = await alice.messenger.status(sent.messageId);
    expect(status.recipients[0]?.status).toMatch(/delivered|surfaced/);
  });

  test("a message pushed but never acknowledged is pushed again after reconnect, and surfaces once", async () => {
    await using b = await startTestBroker(backend);
    const mesh = await createMesh(b, "redeliver");
    const alice = await messagingPeer(await addMember(b, mesh, "Alice"));
    const bobMember = await addMember(b, mesh, "Bob");
    const session = generateSigningKeyPair();
    // Bob's first session receives the push on a bare client that crashes before acknowledging it.
    const bare = await connect(bobMember, { session, reconnect: false });
    const pushed = new Promise((resolve) => bare.on("frame", (f) => f.type === "push" && resolve(f)));
    const sent = await alice.messenger.send("Bob", "again", "now");
    await pushed;
    const gone = b.broker.peersOf(mesh.meshId).length;
    bare.close();
    await waitUntil("the broker to see the close", () => (b.broker.peersOf(mesh.meshId).length < gone ? true : undefined));
    expect((await alice.messenger.status(sent.messageId)).recipients[0]?.status).toBe("queued");

    // Same session key reconnects: the queued message is pushed again, once.
    const bob = await messagingPeer(bobMember, { session });
    expect((await bob.next()).messageId).toBe(sent.messageId);
    await flush(alice, bob);
    expect(texts(bob)).toEqual(["again"]);

    // A lost receipt (row back to queued) leads to a duplicate push, which the client drops.
    await b.store.sql`UPDATE message_recipient SET status = 'queued', delivered_at = NULL WHERE message_id = ${sent.messageId}`;
    const back = bob.client.once("connected");
    bob.client.dropConnection();
    await back;
    await flush(alice, bob);
    expect(texts(bob)).toEqual(["again"]);
    await bob.client.request({ type: "list_peers" }); // Bob's frames are handled in order: his receipt is stored
    const st = await alice.messenger.status(sent.messageId);
    expect(st.recipients[0]?.status).toBe("delivered");
  });

  test("the database never holds message plaintext", async () => {
    await using pb = new ProcessBroker(backend);
    await pb.start();
    const mesh = await createMesh(pb, "secret");
    const alice = await messagingPeer(await addMember(pb, mesh, "Alice"), { groups: [{ name: "ops", role: null }] });
    const bob = await messagingPeer(await addMember(pb, mesh, "Bob"), { groups: [{ name: "ops", role: null }], status: "working" });
    const secrets = ["direct-plaintext-7f3a9c", "group-plaintext-b81e44", "broadcast-plaintext-0c9d12"];
    await alice.messenger.send("Bob", secrets[0] as string, "next");
    await alice.messenger.send("@ops", secrets[1] as string, "next");
    await alice.messenger.send("*", secrets[2] as string, "low");
    await bob.client.request({ type: "set_status", status: "idle" });
    expect((await bob.next()).text).toBe(secrets[0] as string);
    expect((await bob.next()).text).toBe(secrets[1] as string);
    await pb.stop();
    let dump: string;
    if (backend === "sqlite") {
      const { readdirSync, readFileSync } = await import("node:fs");
      dump = readdirSync(pb.dir.path)
        .filter((f) => f.startsWith("claudemesh.sqlite"))
        .map((f) => readFileSync(`${pb.dir.path}/${f}`).toString("latin1"))
        .join("\n");
      const db = new SQL({ adapter: "sqlite", filename: `${pb.dir.path}/claudemesh.sqlite` });
      dump += JSON.stringify(await db`SELECT * FROM message`) + JSON.stringify(await db`SELECT * FROM message_recipient`);
      await db.close();
    } else {
      const db = new SQL({ url: PG_URL as string, connection: { search_path: pb.schema as string } });
      dump = JSON.stringify(await db`SELECT * FROM message`) + JSON.stringify(await db`SELECT * FROM message_recipient`);
      await db.close();
    }
    expect(dump).toContain("msg_"); // the rows are there…
    for (const s of secrets) {
      expect(dump).not.toContain(s); // …but not their plaintext, in any encoding
      expect(dump).not.toContain(Buffer.from(s).toString("base64").slice(0, 16));
    }
  });
});
