import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { brokerRequest } from "../../src/client/http.ts";
import { FilesUsageResponse } from "../../src/files/api.ts";
import { UsageResponse } from "../../src/messaging/api.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { sessionFiles } from "../helpers/files.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, closeClients, createMesh, outcome, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { messagingPeer } from "../helpers/messaging.ts";
import { waitUntil } from "../helpers/wait.ts";

const rows = async (b: TestBroker, q: string) => (await b.store.sql.unsafe(q)) as Record<string, unknown>[];
const count = async (b: TestBroker, table: string) => Number((await rows(b, `SELECT count(*) AS n FROM ${table}`))[0]?.n);
const usageRow = async (b: TestBroker, meshId: string, memberId: string) => {
  const [r] = await b.store.sql`SELECT messages, bytes FROM message_usage WHERE mesh_id = ${meshId} AND member_id = ${memberId}`;
  return { messages: Number(r?.messages ?? 0), bytes: Number(r?.bytes ?? 0) };
};

describe.each(backends())("message quotas on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  suiteFixture(async (stack) => {
    b = stack.use(
      await startTestBroker(backend, { maxQueuedMessagesPerMember: 3, maxQueuedMessagesPerMesh: 5, maxQueuedBytesPerMember: 4000, sendRatePerSec: 1000 }),
    );
    mesh = await createMesh(b, "quota");
  });
  afterEach(() => closeClients());

  test("a member over its quota of stored messages gets quota_exceeded and nothing is stored", async () => {
    const alice = await messagingPeer(await addMember(b, mesh, "Alice"));
    // Bob is busy: `next` messages wait on the broker
    await messagingPeer(await addMember(b, mesh, "Bob"), { status: "working" });
    for (let i = 0; i < 3; i++) await alice.messenger.send("Bob", `held ${i}`, "next");
    const before = [await count(b, "message"), await count(b, "message_recipient")];
    const err = await alice.messenger.send("Bob", "one too many", "next").catch((e) => e);
    expect(err).toMatchObject({ code: "quota_exceeded" });
    expect(err.message).toContain("3 messages");
    expect([await count(b, "message"), await count(b, "message_recipient")]).toEqual(before);
    expect((await usageRow(b, mesh.meshId, alice.client.ack!.memberId)).messages).toBe(3);

    // The mesh as a whole: Carol may store 2 more (5 in all), then the mesh is full for everyone.
    const carol = await messagingPeer(await addMember(b, mesh, "Carol"));
    await carol.messenger.send("Bob", "c1", "next");
    await carol.messenger.send("Bob", "c2", "next");
    expect(await outcome(carol.messenger.send("Bob", "c3", "next"))).toBe("quota_exceeded");
    expect(await usageRow(b, mesh.meshId, "")).toMatchObject({ messages: 5 });
    // the refused message gave Carol's own charge back
    expect((await usageRow(b, mesh.meshId, carol.client.ack!.memberId)).messages).toBe(2);
  });

  test("bytes count too: one big message past the member's byte quota is refused", async () => {
    const other = await createMesh(b, `quota-bytes-${backend}`);
    const dave = await messagingPeer(await addMember(b, other, "Dave"));
    await messagingPeer(await addMember(b, other, "Erin"), { status: "working" });
    await dave.messenger.send("Erin", "x".repeat(1000), "next");
    const err = await dave.messenger.send("Erin", "x".repeat(3000), "next").catch((e) => e);
    expect(err).toMatchObject({ code: "quota_exceeded" });
    const u = await usageRow(b, other.meshId, dave.client.ack!.memberId);
    expect(u.messages).toBe(1);
    expect(u.bytes).toBeGreaterThan(1000);
    expect(u.bytes).toBeLessThan(4000);
  });
});

describe.each(backends())("ciphertext deletion and pruning on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  const clock = new ManualClock();
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend, { messageTtlMs: 400, statusRetentionMs: 400, presenceRetentionMs: 0 }, undefined, { clock }));
    mesh = await createMesh(b, "retention");
  });
  afterEach(() => closeClients());

  const ciphertexts = async (messageId: string) => {
    const [m] = await b.store.sql`SELECT ciphertext, purged_at FROM message WHERE id = ${messageId}`;
    const rs = await b.store.sql`SELECT ciphertext FROM message_recipient WHERE message_id = ${messageId}`;
    return {
      message: m?.ciphertext ?? null,
      purged: m?.purged_at !== null && m?.purged_at !== undefined,
      recipients: rs.map((r: Record<string, unknown>) => r.ciphertext) as unknown[],
    };
  };

  test("a message's ciphertext is deleted once every recipient surfaced it; its status stays until the TTL", async () => {
    const alice = await messagingPeer(await addMember(b, mesh, "Alice"));
    const bob = await messagingPeer(await addMember(b, mesh, "Bob"));
    const carol = await messagingPeer(await addMember(b, mesh, "Carol"));
    const direct = await alice.messenger.send(["Bob", "Carol"], "for both", "now");
    const group = await alice.messenger.send("@all", "for everyone", "now");
    for (const p of [bob, carol]) {
      while ((await p.next()).messageId !== group.messageId);
    }
    expect((await ciphertexts(direct.messageId)).recipients.every((c) => typeof c === "string")).toBe(true);
    expect(typeof (await ciphertexts(group.messageId)).message).toBe("string");
    const memberId = alice.client.ack!.memberId;
    expect((await usageRow(b, mesh.meshId, memberId)).messages).toBe(2);

    // Bob alone surfacing is not enough: Carol may still need hers.
    bob.messenger.markSurfaced([direct.messageId, group.messageId]);
    await waitUntil("Bob's surfaced receipt", async () =>
      (await alice.messenger.status(direct.messageId)).recipients.some((r) => r.status === "surfaced") ? true : undefined,
    );
    expect((await ciphertexts(direct.messageId)).purged).toBe(false);

    carol.messenger.markSurfaced([direct.messageId, group.messageId]);
    await waitUntil("both purged", async () =>
      (await ciphertexts(direct.messageId)).purged && (await ciphertexts(group.messageId)).purged ? true : undefined,
    );
    for (const id of [direct.messageId, group.messageId]) {
      const c = await ciphertexts(id);
      expect(c.message).toBeNull();
      expect(c.recipients.every((x) => x === null)).toBe(true);
    }
    expect(await usageRow(b, mesh.meshId, memberId)).toEqual({ messages: 0, bytes: 0 });
    // message_status still answers from the rows left behind
    const st = await alice.messenger.status(direct.messageId);
    expect(st.recipients.map((r) => r.status)).toEqual(["surfaced", "surfaced"]);

    // After the TTL and the status retention, the sweep removes the rows too.
    clock.advance(400 + 400 + 50);
    await b.broker.housekeeping();
    expect(await outcome(alice.messenger.status(direct.messageId))).toBe("not_found");
    expect(Number((await b.store.sql`SELECT count(*) AS n FROM message_recipient WHERE message_id = ${direct.messageId}`)[0].n)).toBe(0);
  });

  test("an expired message loses its ciphertext at the sweep and shows expired until it is pruned", async () => {
    const alice = await messagingPeer(await addMember(b, mesh, "Ann"));
    await messagingPeer(await addMember(b, mesh, "Ben"), { status: "working" });
    const sent = await alice.messenger.send("Ben", "never read", "next");
    const memberId = alice.client.ack!.memberId;
    expect((await usageRow(b, mesh.meshId, memberId)).messages).toBe(1);
    clock.advance(450); // past the TTL
    await b.broker.housekeeping();
    expect((await alice.messenger.status(sent.messageId)).recipients[0]).toMatchObject({ status: "expired" });
    expect(await ciphertexts(sent.messageId)).toMatchObject({ message: null, purged: true, recipients: [null] });
    expect(await usageRow(b, mesh.meshId, memberId)).toEqual({ messages: 0, bytes: 0 });
    clock.advance(450); // past the status retention
    await b.broker.housekeeping();
    expect(await outcome(alice.messenger.status(sent.messageId))).toBe("not_found");
  });

  test("the sweep runs on its own timer and prunes ended sessions from the presence history", async () => {
    await using timed = await startTestBroker(backend, { sweepIntervalMs: 100, presenceRetentionMs: 0 });
    const m = await createMesh(timed, "presence-prune");
    const gone = await messagingPeer(await addMember(timed, m, "Gone"));
    const stays = await messagingPeer(await addMember(timed, m, "Stays"));
    const goneKey = gone.client.sessionPubkey;
    // a hello does not wait for its presence row: both are written before one session ends
    const rows = async (key: string) => Number((await timed.store.sql`SELECT count(*) AS n FROM presence WHERE session_pubkey = ${key}`)[0].n);
    await waitUntil("both sessions' presence rows written", async () =>
      (await rows(goneKey)) + (await rows(stays.client.sessionPubkey)) === 2 ? true : undefined,
    );
    gone.client.close();
    await waitUntil("the ended session's presence row pruned", async () => ((await rows(goneKey)) === 0 ? true : undefined));
    expect(await rows(stays.client.sessionPubkey)).toBe(1);
  });
});

describe.each(backends())("usage per mesh on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "usage");
  });

  test("owners, admins and the operator see it; plain members and other meshes do not", async () => {
    const alice = await messagingPeer(await addMember(b, mesh, "Alice"));
    await messagingPeer(await addMember(b, mesh, "Bob"), { status: "working" });
    await alice.messenger.send("Bob", "waiting", "next");
    const work = tempDir("cm-usage-files-");
    writeFileSync(join(work.path, "notes.md"), "x".repeat(1000));
    await sessionFiles(b, alice.client).upload(join(work.path, "notes.md"), {});
    work.cleanup();
    const path = `/meshes/${mesh.meshId}/usage`;
    const asOwner = await brokerRequest(b.url, "GET", path, UsageResponse, { auth: { kind: "member", mesh: mesh.owner } });
    expect(asOwner.stored.messages).toBe(1);
    expect(asOwner.members.find((m) => m.displayName === "Alice")).toMatchObject({ stored: { messages: 1 }, online: 1 });
    expect(asOwner.limits.perMember.messages).toBe(10_000);
    const asOperator = await brokerRequest(b.url, "GET", path, UsageResponse, { auth: { kind: "admin", token: b.adminToken } });
    expect(asOperator.stored).toEqual(asOwner.stored);
    const member = await addMember(b, mesh, "Plain");
    expect(await outcome(brokerRequest(b.url, "GET", path, UsageResponse, { auth: { kind: "member", mesh: member } }))).toBe("forbidden");
    // a member is told who may, the operator included (the quick start's user holds the admin token)
    await expect(brokerRequest(b.url, "GET", path, UsageResponse, { auth: { kind: "member", mesh: member } })).rejects.toThrow(
      "only mesh owners and admins, or the broker's operator with its admin token, may see its usage",
    );
    const other = await createMesh(b, `usage-other-${backend}`);
    expect(await outcome(brokerRequest(b.url, "GET", path, UsageResponse, { auth: { kind: "member", mesh: other.owner } }))).toBe("wrong_mesh");
    expect(await outcome(brokerRequest(b.url, "GET", path, UsageResponse))).toBe("unauthorized");
    expect(await outcome(brokerRequest(b.url, "GET", "/meshes/%00/usage", UsageResponse, { auth: { kind: "admin", token: b.adminToken } }))).toBe(
      "invalid_argument",
    );

    // files, beside messages, for the same people
    const files = `/meshes/${mesh.meshId}/files/usage`;
    const filesAsOwner = await brokerRequest(b.url, "GET", files, FilesUsageResponse, { auth: { kind: "member", mesh: mesh.owner } });
    expect(filesAsOwner.stored).toEqual({ files: 1, bytes: 1000 });
    expect(filesAsOwner.members).toEqual([{ memberId: alice.client.ack?.memberId as string, files: 1, bytes: 1000 }]);
    expect(filesAsOwner.limits.meshBytes).toBeGreaterThan(0);
    expect((await brokerRequest(b.url, "GET", files, FilesUsageResponse, { auth: { kind: "admin", token: b.adminToken } })).stored).toEqual(
      filesAsOwner.stored,
    );
    expect(await outcome(brokerRequest(b.url, "GET", files, FilesUsageResponse, { auth: { kind: "member", mesh: member } }))).toBe("forbidden");
    expect(await outcome(brokerRequest(b.url, "GET", files, FilesUsageResponse, { auth: { kind: "member", mesh: other.owner } }))).toBe("wrong_mesh");
    expect(await outcome(brokerRequest(b.url, "GET", files, FilesUsageResponse))).toBe("unauthorized");
  });

  test("`claudemesh usage <slug>` prints it (compiled binary)", async () => {
    const bin = await ensureBinary();
    const home = tempDir("cm-home-usage-");
    try {
      writeFileSync(join(home.path, "config.json"), JSON.stringify({ version: 1, meshes: [mesh.owner] }), { mode: 0o600 });
      const run = async (...args: string[]) => {
        const p = Bun.spawn([bin, "usage", ...args], { env: { ...process.env, CLAUDEMESH_HOME: home.path }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        return { out, err, code };
      };
      const text = await run("usage");
      expect(text.err).toBe("");
      expect(text.code).toBe(0);
      expect(text.out).toContain("usage: 1 undelivered message(s)");
      expect(text.out).toMatch(/Alice\s+mbr_\S+\s+1\s+1\s+\d/);
      expect(text.out).toContain("files: 1 file(s), 1000 B stored (quota 10 GB per mesh)");
      expect(text.out).toMatch(/Alice\s+mbr_\S+\s+1\s+1\s+\S+ \S+\s+1\s+1000 B/);
      const json = await run("usage", "--json");
      expect(UsageResponse.parse(JSON.parse(json.out)).stored.messages).toBe(1);
      expect(FilesUsageResponse.parse(JSON.parse(json.out).files).stored).toEqual({ files: 1, bytes: 1000 });
    } finally {
      home.cleanup();
    }
  }, 60_000);
});
