/**
 * Messaging latency: time from `send` to the recipient's decrypted `message` event, through a real broker
 * over loopback WebSockets. Baseline, measured in the same run on the same sockets: a `list_peers` round
 * trip (WS + framing + zod, no database write), so the figure shows what durability and crypto add.
 */
import { BrokerClient } from "../../src/client/broker-client.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { type InboundMessage, Messenger } from "../../src/messaging/messenger.ts";
import { addBenchMember, createBenchMesh, percentiles as fmt, startBenchBroker } from "./harness.ts";

const N = Number(process.env.BENCH_MESSAGES ?? 1000);

async function benchOne(label: string, databaseUrl?: string): Promise<void> {
  const { broker: b, stop } = await startBenchBroker(databaseUrl, { sendRatePerSec: 1e6, frameRatePerSec: 1e6, memberFrameRatePerSec: 1e6 });
  try {
    const mesh = await createBenchMesh(b, "bench", "owner");
    const peers = await Promise.all(
      ["Alice", "Bob"].map(async (name) => {
        const m = await addBenchMember(b, mesh, name);
        const session = generateSigningKeyPair();
        const client = new BrokerClient({ mesh: m, session, displayName: name });
        await client.connect();
        return { client, messenger: new Messenger(client, { rootKey: mesh.rootKey, sessionSecretKey: session.secretKey }) };
      }),
    );
    const [alice, bob] = peers as [(typeof peers)[0], (typeof peers)[0]];
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
    await stop();
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
