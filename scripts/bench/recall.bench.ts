/**
 * Recall latency over a 100,000-memory mesh on SQLite and (with CLAUDEMESH_TEST_DATABASE_URL) Postgres:
 * end to end through a real broker over loopback WebSockets ("ws"), and the store query alone ("db").
 * Baselines measured in the same run: the same queries over a 1,000-memory mesh, and a get_state round
 * trip (a keyed lookup). The corpus is synthetic: words drawn from a Zipf-distributed vocabulary, so some
 * query words are in a large share of all memories (the expensive case for ranking) and some in a few.
 */
import type { RunningBroker } from "../../src/server/app.ts";
import { BrokerClient } from "../../src/client/broker-client.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { searchWords } from "../../src/memory/query.ts";
import { MemoryRepo } from "../../src/memory/repo.ts";
import type { Store } from "../../src/store/db.ts";
import { newId } from "../../src/util/ids.ts";
import { createBenchMesh, percentiles, startBenchBroker } from "./harness.ts";

const N = Number(process.env.BENCH_MEMORIES ?? 100_000);
const BASELINE_N = 1_000;
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);
const VOCABULARY = 20_000;
const ROWS_PER_INSERT = 500;
const INSERTS_PER_TX = 10;
const TAGS = Array.from({ length: 30 }, (_, i) => `tag${i}`);

/** Deterministic PRNG (mulberry32), so every run and backend sees the same corpus and queries. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeVocabulary(rand: () => number): string[] {
  const syl = [
    "ka",
    "lo",
    "mi",
    "ren",
    "tor",
    "vex",
    "su",
    "pla",
    "dri",
    "gon",
    "fe",
    "zu",
    "nar",
    "bel",
    "quo",
    "ti",
    "sha",
    "mor",
    "ek",
    "ul",
    "ast",
    "rin",
    "po",
    "dex",
  ];
  const words = new Set<string>();
  while (words.size < VOCABULARY) {
    const n = 2 + Math.floor(rand() * 3);
    let w = "";
    for (let i = 0; i < n; i++) w += syl[Math.floor(rand() * syl.length)];
    words.add(w);
  }
  return [...words];
}

/** Samples vocabulary ranks with probability ∝ 1/(rank+1). */
function zipf(rand: () => number): () => number {
  const cdf = new Float64Array(VOCABULARY);
  let sum = 0;
  for (let r = 0; r < VOCABULARY; r++) cdf[r] = sum += 1 / (r + 1);
  return () => {
    const u = rand() * sum;
    let lo = 0;
    let hi = VOCABULARY - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Corpus {
  text(rand: () => number): string;
  queries: { text: string; common: boolean }[];
}

function corpus(): Corpus {
  const rand = prng(42);
  const vocab = makeVocabulary(rand);
  const rank = zipf(rand);
  const word = (r: () => number) => vocab[rank()] as string;
  const text = (r: () => number) => {
    const n = 10 + Math.floor(r() * 50);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(word(r));
    return `${out.join(" ")}.`;
  };
  // half the queries use frequent words (each in thousands of memories), half specific ones
  const queries = Array.from({ length: QUERIES }, (_, i) => {
    const common = i % 2 === 0;
    const k = 1 + Math.floor(rand() * 4);
    const words = Array.from({ length: k }, () => (common ? word(rand) : (vocab[100 + Math.floor(rand() * (VOCABULARY - 100))] as string)));
    return { text: words.join(" "), common };
  });
  return { text, queries };
}

/** Multi-row INSERTs, several per transaction: the fastest path both dialects offer without COPY. */
async function load(store: Store, meshId: string, memberId: string, n: number, c: Corpus): Promise<number> {
  const rand = prng(7);
  const pg = store.dialect === "postgres";
  const started = performance.now();
  const now = Date.now() - n;
  let done = 0;
  while (done < n) {
    await store.sql.begin(async (tx) => {
      for (let s = 0; s < INSERTS_PER_TX && done < n; s++) {
        const rows = Math.min(ROWS_PER_INSERT, n - done);
        const params: unknown[] = [];
        const values: string[] = [];
        for (let i = 0; i < rows; i++) {
          const tags = TAGS.filter(() => rand() < 0.05);
          const p = params.length;
          const ph = (k: number) => (pg ? `$${p + k}` : "?");
          values.push(`(${ph(1)}, ${ph(2)}, ${ph(3)}, ${pg ? `${ph(4)}::text[]` : ph(4)}, ${ph(5)}, ${ph(6)}, ${ph(7)})`);
          params.push(newId("mem"), meshId, c.text(rand), pg ? `{${tags.join(",")}}` : JSON.stringify(tags), memberId, "Bench", now + done + i);
        }
        await tx.unsafe(
          `INSERT INTO memory (id, mesh_id, content, tags, remembered_by, remembered_by_name, remembered_at) VALUES ${values.join(", ")}`,
          params,
        );
        done += rows;
      }
    });
  }
  // what autovacuum does in steady state: flush the GIN pending list, fresh statistics
  if (pg) await store.sql.unsafe("VACUUM ANALYZE memory");
  return performance.now() - started;
}

const stats = (xs: number[]) => percentiles(xs, [6, 7]);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

interface Setup {
  broker: RunningBroker;
  client: BrokerClient;
  meshId: string;
  cleanup(): Promise<void>;
}

async function setup(databaseUrl: string | undefined): Promise<Setup> {
  const { broker, stop } = await startBenchBroker(databaseUrl, { frameRatePerSec: 1e6 });
  const { meshId, owner } = await createBenchMesh(broker, "bench", "Bench");
  const client = new BrokerClient({ mesh: owner, session: generateSigningKeyPair(), displayName: "Bench", reconnect: false });
  await client.connect();
  return {
    broker,
    client,
    meshId,
    async cleanup() {
      client.close();
      await stop();
    },
  };
}

async function measure(label: string, s: Setup, c: Corpus): Promise<void> {
  const repo = new MemoryRepo(s.broker.store);
  for (const q of c.queries.slice(0, 30)) await s.client.request({ type: "recall", query: q.text }, "memory_results"); // warm-up
  const ws: number[] = [];
  const db: number[] = [];
  const wsCommon: number[] = [];
  let hits = 0;
  for (const q of c.queries) {
    const t = performance.now();
    const res = await s.client.request({ type: "recall", query: q.text }, "memory_results");
    const ms = performance.now() - t;
    ws.push(ms);
    if (q.common) wsCommon.push(ms);
    hits += res.memories.length;
    db.push(await time(() => repo.recall({ meshId: s.meshId, words: searchWords(q.text), tags: [], limit: 10 })));
  }
  console.log(
    `  ${label}  ws ${stats(ws)} | db ${stats(db)} | frequent-word queries ws ${stats(wsCommon)}  (avg ${(hits / c.queries.length).toFixed(1)} results)`,
  );
}

async function benchBackend(name: string, databaseUrl: string | undefined, c: Corpus): Promise<void> {
  const big = await setup(databaseUrl);
  const small = await setup(databaseUrl);
  try {
    const loadMs = await load(big.broker.store, big.meshId, big.client.ack?.memberId as string, N, c);
    console.log(
      `  ${name} loaded ${N.toLocaleString("en")} memories in ${(loadMs / 1000).toFixed(1)} s (${Math.round(N / (loadMs / 1000)).toLocaleString("en")}/s)`,
    );
    await load(small.broker.store, small.meshId, small.client.ack?.memberId as string, BASELINE_N, c);
    await measure(`${name} recall over ${N.toLocaleString("en").padStart(7)}`, big, c);
    await measure(`${name} recall over ${BASELINE_N.toLocaleString("en").padStart(7)}`, small, c);
    await big.client.request({ type: "set_state", key: "k", value: { some: "value" } }, "state_result");
    const keyed: number[] = [];
    for (let i = 0; i < 30; i++) await big.client.request({ type: "get_state", key: "k" }, "state_result");
    for (let i = 0; i < c.queries.length; i++) keyed.push(await time(() => big.client.request({ type: "get_state", key: "k" }, "state_result")));
    console.log(`  ${name} baseline get_state round trip  ws ${stats(keyed)}`);
  } finally {
    await big.cleanup();
    await small.cleanup();
  }
}

export async function run(): Promise<void> {
  const c = corpus();
  console.log(
    `recall: ${N.toLocaleString("en")} synthetic memories (10-59 words from a ${VOCABULARY.toLocaleString("en")}-word Zipf vocabulary), ${QUERIES} queries of 1-4 words, limit 10, one at a time`,
  );
  await benchBackend("sqlite  ", undefined, c);
  const pg = process.env.CLAUDEMESH_TEST_DATABASE_URL;
  if (pg) await benchBackend("postgres", pg, c);
  else console.log("  postgres skipped (set CLAUDEMESH_TEST_DATABASE_URL)");
}

if (import.meta.main) await run();
