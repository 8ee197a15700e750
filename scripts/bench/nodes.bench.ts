/**
 * Two broker nodes on one Postgres (#14): send→push latency and throughput between two sessions of one
 * node (the baseline, same run, same brokers) and between sessions on different nodes (a wake-up through
 * `node_event` + NOTIFY, then the recipient node's queue read). Brokers in processes of their own
 * (scale/broker-proc.ts), clients here. Needs Postgres (CLAUDEMESH_TEST_DATABASE_URL or DATABASE_URL).
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import { BrokerClient } from "../../src/client/broker-client.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { type InboundMessage, Messenger } from "../../src/messaging/messenger.ts";
import type { RunningBroker } from "../../src/server/app.ts";
import { addBenchMember, createBenchMesh, percentiles, spawnReady } from "./harness.ts";

const ROOT = join(import.meta.dir, "../..");
const N = Number(process.env.BENCH_MESSAGES ?? (process.env.BENCH_SMOKE ? 100 : 1000));
const BURST = Number(process.env.BENCH_BURST ?? (process.env.BENCH_SMOKE ? 200 : 2000));

interface Node {
  proc: Subprocess<"ignore", "pipe", "inherit">;
  broker: Pick<RunningBroker, "url" | "adminToken">;
  schema: string;
}

async function startNode(pg: string, schema?: string): Promise<Node> {
  const args = [join(import.meta.dir, "scale/broker-proc.ts"), pg, "", ...(schema ? [schema] : [])];
  const { proc, text } = await spawnReady(args, (t) => t.includes("\n"), { cwd: ROOT });
  const info = JSON.parse(text.slice(0, text.indexOf("\n"))) as { url: string; adminToken: string; schema: string };
  return { proc, broker: { url: info.url, adminToken: info.adminToken }, schema: info.schema };
}

type Peer = { client: BrokerClient; messenger: Messenger; next(): Promise<InboundMessage> };

async function peer(member: Awaited<ReturnType<typeof addBenchMember>>, rootKey: string, url: string): Promise<Peer> {
  const session = generateSigningKeyPair();
  const client = new BrokerClient({ mesh: { ...member, brokerUrl: url }, session, displayName: member.displayName });
  await client.connect();
  const messenger = new Messenger(client, { rootKey, sessionSecretKey: session.secretKey });
  const inbox: InboundMessage[] = [];
  const waiters: ((m: InboundMessage) => void)[] = [];
  messenger.on("message", (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  return {
    client,
    messenger,
    next: () => {
      const m = inbox.shift();
      return m ? Promise.resolve(m) : new Promise((r) => waiters.push(r));
    },
  };
}

async function waitSeen(observer: Peer, name: string): Promise<void> {
  for (;;) {
    const { peers } = await observer.client.request({ type: "list_peers" }, "peers_list");
    if (peers.some((p) => p.name === name)) return;
    await Bun.sleep(50);
  }
}

async function latency(from: Peer, to: Peer, name: string): Promise<number[]> {
  for (let i = 0; i < 20; i++) {
    await from.messenger.send(name, "warm-up", "now");
    await to.next();
  }
  const lat: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const got = to.next();
    await from.messenger.send(name, `m${i}`, "now");
    await got;
    lat.push(performance.now() - t);
  }
  return lat;
}

/** Delivered messages per second with 50 sends in flight. */
async function throughput(from: Peer, to: Peer, name: string): Promise<number> {
  const started = performance.now();
  const received = (async () => {
    for (let i = 0; i < BURST; i++) await to.next();
  })();
  let sent = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (sent < BURST) {
        sent++;
        await from.messenger.send(name, "burst", "now");
      }
    }),
  );
  await received;
  return BURST / ((performance.now() - started) / 1000);
}

export async function run(): Promise<void> {
  const pg = process.env.CLAUDEMESH_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!pg) {
    console.log("  skipped: no Postgres (set CLAUDEMESH_TEST_DATABASE_URL)");
    return;
  }
  const a = await startNode(pg);
  const b = await startNode(pg, a.schema);
  try {
    const mesh = await createBenchMesh(a.broker as RunningBroker, "nodes", "owner");
    const member = (name: string) => addBenchMember(a.broker as RunningBroker, mesh, name);
    const onA = await peer(await member("Alice"), mesh.rootKey, a.broker.url);
    const sameNode = await peer(await member("Bob"), mesh.rootKey, a.broker.url);
    const otherNode = await peer(await member("Carol"), mesh.rootKey, b.broker.url);
    await waitSeen(onA, "Carol");

    const same = await latency(onA, sameNode, "Bob");
    const cross = await latency(onA, otherNode, "Carol");
    console.log(`  one node      send→push  ${percentiles(same, [6, 6])}  (baseline: both sessions on node A)`);
    console.log(`  across nodes  send→push  ${percentiles(cross, [6, 6])}  (sender on node A, recipient on node B)`);
    const tSame = await throughput(onA, sameNode, "Bob");
    const tCross = await throughput(onA, otherNode, "Carol");
    console.log(`  one node      ${Math.round(tSame).toString().padStart(6)} msg/s delivered, 50 in flight`);
    console.log(
      `  across nodes  ${Math.round(tCross).toString().padStart(6)} msg/s delivered, 50 in flight (${Math.round((100 * tCross) / tSame)} % of one node)`,
    );
    for (const p of [onA, sameNode, otherNode]) p.client.close();
  } finally {
    // the node that owns the schema drops it on SIGTERM: it stops last
    b.proc.kill("SIGTERM");
    await b.proc.exited;
    a.proc.kill("SIGTERM");
    await a.proc.exited;
  }
}
