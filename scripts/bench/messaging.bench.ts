/**
 * Messaging latency: time from `send` to the recipient's decrypted `message` event, through a real broker
 * over loopback WebSockets. Baseline, measured in the same run on the same sockets: a `list_peers` round
 * trip (WS + framing + zod, no database write), so the figure shows what durability and crypto add.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker } from "../../src/broker/server.ts";
import { BrokerClient } from "../../src/client/broker-client.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { b64url } from "../../src/crypto/encoding.ts";
import { generateRootKey, generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { CreateMeshResponse, InviteResponse, JoinResponse } from "../../src/meshes/api.ts";
import { type InboundMessage, Messenger } from "../../src/messaging/messenger.ts";

const N = Number(process.env.BENCH_MESSAGES ?? 1000);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(2)} ms  p99 ${pct(s, 99).toFixed(2)} ms`;
};

async function member(url: string, admin: string, meshId: string, rootKey: string, name: string): Promise<MeshConfig> {
  const keys = generateSigningKeyPair();
  const inv = await brokerRequest(url, "POST", `/meshes/${meshId}/invites`, InviteResponse, { auth: { kind: "admin", token: admin }, body: {} });
  const j = await brokerRequest(url, "POST", "/join", JoinResponse, { body: { token: inv.token, pubkey: keys.publicKey, displayName: name } });
  return { slug: j.slug, meshId, brokerUrl: url, memberId: j.memberId, displayName: name, role: j.role, pubkey: keys.publicKey, secretKey: keys.secretKey, rootKey, joinedAt: Date.now() };
}

async function benchOne(label: string, databaseUrl?: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "cm-bench-"));
  const schema = databaseUrl ? `cm_bench_${Date.now().toString(36)}` : undefined;
  const b = await startBroker({ port: 0, dataDir: dir, databaseUrl, dbSchema: schema, limits: { sendRatePerSec: 1e6, frameRatePerSec: 1e6 } });
  try {
    const rootKey = b64url.encode(generateRootKey());
    const owner = generateSigningKeyPair();
    const mesh = await brokerRequest(b.url, "POST", "/admin/meshes", CreateMeshResponse, { auth: { kind: "admin", token: b.adminToken }, body: { slug: "bench", ownerPubkey: owner.publicKey, ownerName: "owner" } });
    const peers = await Promise.all(["Alice", "Bob"].map(async (name) => {
      const m = await member(b.url, b.adminToken, mesh.meshId, rootKey, name);
      const session = generateSigningKeyPair();
      const client = new BrokerClient({ mesh: m, session, displayName: name });
      await client.connect();
      return { client, messenger: new Messenger(client, { rootKey, sessionSecretKey: session.secretKey }) };
    }));
    const [alice, bob] = peers as [typeof peers[0], typeof peers[0]];
    let waiting: ((m: InboundMessage) => void) | null = null;
    bob.messenger.on("message", (m) => waiting?.(m));

    for (let i = 0; i < 50; i++) await alice.client.request({ type: "list_peers" }); // warm-up
    const baseline: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      await alice.client.request({ type: "list_peers" });
      baseline.push(performance.now() - t);
    }
    for (const kind of ["direct", "group"] as const) {
      const to = kind === "direct" ? "Bob" : "*";
      const lat: number[] = [];
      const start = performance.now();
      for (let i = 0; i < N; i++) {
        const got = new Promise<InboundMessage>((r) => (waiting = r));
        const t = performance.now();
        await alice.messenger.send(to, `message ${i}`, "now");
        await got;
        lat.push(performance.now() - t);
      }
      const secs = (performance.now() - start) / 1000;
      console.log(`  ${label} ${kind.padEnd(6)} send→push  ${fmt(lat)}  (${Math.round(N / secs)} msg/s sequential)`);
    }
    console.log(`  ${label} baseline list_peers round trip  ${fmt(baseline)}`);
    for (const p of peers) p.client.close();
  } finally {
    await b.stop();
    if (databaseUrl && schema) {
      const { SQL } = await import("bun");
      const sql = new SQL(databaseUrl);
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  console.log(`messaging: ${N} messages, one at a time, durable store + E2E crypto`);
  await benchOne("sqlite  ");
  const pg = process.env.CLAUDEMESH_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (pg) await benchOne("postgres", pg);
  else console.log("  postgres skipped (set CLAUDEMESH_TEST_DATABASE_URL)");
}

if (import.meta.main) await run();
