import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import type { BrokerClient } from "../../src/client/broker-client.ts";
import { sealDirect } from "../../src/crypto/envelope.ts";
import { generateSigningKeyPair, type KeyPair } from "../../src/crypto/keys.ts";
import { backends, PG_URL } from "../helpers/backends.ts";
import { addMember, closeClients, connect, createMesh } from "../helpers/broker.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";

const SENDERS = 8;
// each connection may burst twice its send rate (50/s): all of these are in flight at once
const PER_SENDER = 100;

async function storedMessages(pb: ProcessBroker): Promise<{ id: string; client_id: string }[]> {
  if (pb.backend === "sqlite") {
    const db = new SQL({ adapter: "sqlite", filename: `${pb.dir.path}/claudemesh.sqlite`, readonly: true });
    try {
      return await db`SELECT id, client_id FROM message`;
    } finally {
      await db.close();
    }
  }
  const db = new SQL({ url: PG_URL as string, connection: { search_path: pb.schema as string } });
  try {
    return await db`SELECT id, client_id FROM message`;
  } finally {
    await db.close();
  }
}

describe.each(backends())("group commit on %s", (backend) => {
  const brokers: ProcessBroker[] = [];
  afterAll(async () => {
    closeClients();
    for (const b of brokers) await b.destroy();
  });

  test("kill -9 in the middle of group commits: every acknowledged message survives, nothing pushed was unstored, a resend stores each once", async () => {
    const pb = new ProcessBroker(backend);
    brokers.push(pb);
    await pb.start();
    const mesh = await createMesh(pb, "groupcommit");
    const bobSession = generateSigningKeyPair();
    const bobMember = await addMember(pb, mesh, "Bob");
    const bob = await connect(bobMember, { session: bobSession, reconnect: false });
    const pushed = new Set<string>();
    bob.on("frame", (f) => {
      if (f.type === "push") pushed.add(f.messageId);
    });
    const members = await Promise.all(Array.from({ length: SENDERS }, (_, i) => addMember(pb, mesh, `S${i}`)));
    const senders: { client: BrokerClient; session: KeyPair }[] = [];
    for (const m of members) {
      const session = generateSigningKeyPair();
      senders.push({ client: await connect(m, { session, reconnect: false }), session });
    }

    const frame = (s: { session: KeyPair }, clientId: string) => ({
      type: "send" as const,
      clientId,
      to: "Bob",
      priority: "now" as const,
      kind: "direct" as const,
      envelopes: [{ sessionPubkey: bobSession.publicKey, ...sealDirect(clientId, bobSession.publicKey, s.session.secretKey) }],
    });
    const acked = new Map<string, string>(); // clientId → messageId
    const unacked: { sender: number; clientId: string }[] = [];
    let killed: Promise<void> | null = null;
    const sends = senders.flatMap((s, si) =>
      Array.from({ length: PER_SENDER }, async (_, k) => {
        const clientId = `gc-${si}-${k}`;
        try {
          const ack = await s.client.request(frame(s, clientId), "ack");
          acked.set(clientId, ack.messageId);
          // Killed once a few batches are acknowledged, while most sends are still waiting on theirs.
          if (acked.size === 50) killed ??= pb.kill9();
        } catch {
          unacked.push({ sender: si, clientId });
        }
      }),
    );
    await Promise.all(sends);
    await killed;
    // The kill really landed in the middle: some sends were acknowledged, some never were.
    expect(acked.size).toBeGreaterThanOrEqual(50);
    expect(unacked.length).toBeGreaterThan(0);
    closeClients();

    await pb.start();
    const afterKill = await storedMessages(pb);
    const storedIds = new Set(afterKill.map((r) => r.id));
    for (const id of acked.values()) expect(storedIds.has(id)).toBe(true);
    // A push goes out only after its commit: whatever Bob was handed is on disk.
    for (const id of pushed) expect(storedIds.has(id)).toBe(true);

    // The senders retry what they never saw acknowledged, with the same client ids (as Messenger does).
    await connect(bobMember, { session: bobSession, reconnect: false });
    const again = await Promise.all(
      members.map(async (m, i) => ({
        client: await connect(m, { session: senders[i]?.session as KeyPair, reconnect: false }),
        session: senders[i]?.session as KeyPair,
      })),
    );
    for (const u of unacked) {
      const s = again[u.sender] as (typeof again)[number];
      const ack = await s.client.request(frame(s, u.clientId), "ack");
      const before = afterKill.find((r) => r.client_id === u.clientId);
      // committed before the kill but never acknowledged: the retry is answered with the stored message
      expect(ack.duplicate).toBe(before !== undefined);
      if (before) expect(ack.messageId).toBe(before.id);
    }
    closeClients();
    await pb.stop();
    const final = await storedMessages(pb);
    expect(final.length).toBe(SENDERS * PER_SENDER);
    expect(new Set(final.map((r) => r.client_id)).size).toBe(SENDERS * PER_SENDER);
  });
});
