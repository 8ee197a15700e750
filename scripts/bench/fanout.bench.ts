/**
 * Broadcast fan-out: one `*` message to every other session of a 50-peer mesh, timed until the last
 * recipient has it decrypted. Baseline in the same run: the same message to a single peer, so the figure
 * shows what each extra recipient costs (one queue row, one push, one receipt).
 */
import { BrokerClient } from "../../src/client/broker-client.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { Messenger } from "../../src/messaging/messenger.ts";
import { addBenchMember, createBenchMesh, percentiles, startBenchBroker } from "./harness.ts";

const PEERS = Number(process.env.BENCH_FANOUT_PEERS ?? 50);
const ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? 100);

async function benchOne(label: string, databaseUrl?: string): Promise<void> {
  // every session connects from this one address, faster than a real one would (the per-address budget
  // refused the 41st of 50 once connects got quick enough)
  const { broker: b, stop } = await startBenchBroker(databaseUrl, {
    sendRatePerSec: 1e6,
    frameRatePerSec: 1e6,
    memberFrameRatePerSec: 1e6,
    connectRatePerAddress: 1e6,
  });
  const clients: BrokerClient[] = [];
  try {
    const mesh = await createBenchMesh(b, "fanout", "owner");
    type Peer = { name: string; messenger: Messenger };
    const peers: Peer[] = [];
    for (let i = 0; i < PEERS; i++) {
      const m = await addBenchMember(b, mesh, `peer${i}`);
      const session = generateSigningKeyPair();
      const client = new BrokerClient({ mesh: m, session, displayName: `peer${i}` });
      await client.connect();
      clients.push(client);
      peers.push({ name: `peer${i}`, messenger: new Messenger(client, { rootKey: mesh.rootKey, sessionSecretKey: session.secretKey }) });
    }
    const [sender, ...rest] = peers as [Peer, ...Peer[]];
    // Resolves when every given peer has decrypted the message with this text.
    const arrival = (text: string, who: Peer[]) =>
      Promise.all(
        who.map(
          (p) =>
            new Promise<void>((resolve) => {
              const off = p.messenger.on("message", (m) => {
                if (m.text === text) {
                  off();
                  resolve();
                }
              });
            }),
        ),
      );
    const run = async (to: string, who: Peer[]) => {
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const text = `${to} ${i}`;
        const all = arrival(text, who);
        const t = performance.now();
        await sender.messenger.send(to, text, "now");
        await all;
        times.push(performance.now() - t);
      }
      return times;
    };
    const one = rest[0] as Peer;
    const single = await run(one.name, [one]);
    const fan = await run("*", rest);
    console.log(`  ${label} broadcast to ${rest.length} peers, last arrival  ${percentiles(fan, [6, 6])}`);
    console.log(`  ${label} baseline: direct to 1 peer          ${percentiles(single, [6, 6])}`);
  } finally {
    for (const c of clients) c.close();
    await stop();
  }
}

export async function run(): Promise<void> {
  console.log(`fan-out: ${PEERS} sessions in one mesh, ${ROUNDS} rounds, one message at a time`);
  await benchOne("sqlite  ");
  const pg = process.env.CLAUDEMESH_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (pg) await benchOne("postgres", pg);
  else console.log("  postgres skipped (set CLAUDEMESH_TEST_DATABASE_URL)");
}

if (import.meta.main) await run();
