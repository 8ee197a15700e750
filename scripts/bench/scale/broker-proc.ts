/**
 * The broker under test, in a process of its own (the clients' work must not share its event loop):
 * `bun broker-proc.ts [postgres-url] [data-dir schema]`. Limits that would refuse a benchmark's single
 * address and single member are lifted; everything else is the production broker. Prints one JSON line
 * once listening. A restart (the reconnect storm) passes the data dir and schema it had, and
 * `BENCH_PORT` for the same port; `BENCH_MAX_PENDING_HELLOS` overrides the node's hello gate.
 */
import { SQL } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker } from "../../../src/server/app.ts";
import { installMemoryProbe } from "./memory-probe.ts";

const databaseUrl = process.argv[2] || undefined;
const dataDir = process.argv[3] || mkdtempSync(join(tmpdir(), "cm-bench-"));
const schema = process.argv[4] || (databaseUrl ? `cm_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}` : undefined);
const big = 1e9;
const gate = process.env.BENCH_MAX_PENDING_HELLOS;
const b = await startBroker({
  port: Number(process.env.BENCH_PORT ?? 0),
  dataDir,
  databaseUrl,
  dbSchema: schema,
  limits: {
    sendRatePerSec: big,
    frameRatePerSec: big,
    connectRatePerAddress: big,
    helloRatePerMember: big,
    memberFrameRatePerSec: big,
    maxQueuedMessagesPerMember: big,
    maxQueuedMessagesPerMesh: big,
    maxQueuedBytesPerMember: big * 1000,
    maxQueuedBytesPerMesh: big * 1000,
    pingIntervalMs: 600_000,
    sweepIntervalMs: 600_000,
    ...(gate ? { maxPendingHellos: Number(gate) } : {}),
  },
});
installMemoryProbe();
console.log(JSON.stringify({ url: b.url, wsUrl: b.wsUrl, adminToken: b.adminToken, dataDir, schema: schema ?? null, pid: process.pid }));
/**
 * What a slow stop was doing (some full runs saw ~20 s on Postgres under 10,000 sessions, not explained):
 * sampled every 500 ms during the stop, printed to stderr only if it took over 3 s. On Postgres, what the
 * server's other connections were waiting on; everywhere, how late the sampler's own timer fired.
 */
function traceStop(): () => Promise<void> {
  const started = performance.now();
  const samples: string[] = [];
  const pg = databaseUrl ? new SQL(databaseUrl) : null;
  let due = performance.now() + 500;
  const timer = setInterval(async () => {
    const now = performance.now();
    const late = now - due;
    due = now + 500;
    let waits = "";
    let active = "";
    if (pg) {
      // what the longest-running statements are, so a slow stop names its queries
      const running = (await pg
        .unsafe(
          "SELECT round(extract(epoch FROM now() - query_start)::numeric, 2) AS secs, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS q FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' ORDER BY query_start LIMIT 2",
        )
        .catch(() => [])) as { secs: string; q: string }[];
      active = running.map((r) => `\n      ${r.secs} s: ${r.q}`).join("");
      const rows = (await pg
        .unsafe(
          "SELECT state, coalesce(wait_event_type, '-') || ':' || coalesce(wait_event, '-') AS wait, count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1, 2 ORDER BY 3 DESC",
        )
        .catch(() => [])) as { state: string; wait: string; n: number }[];
      waits = rows.map((r) => `${r.n} ${r.state} ${r.wait}`).join(", ");
    }
    samples.push(`+${((now - started) / 1000).toFixed(1)} s (timer ${late.toFixed(0)} ms late) ${waits}${active}`);
  }, 500);
  return async () => {
    clearInterval(timer);
    const secs = (performance.now() - started) / 1000;
    if (secs > 3) process.stderr.write(`broker-proc: the stop took ${secs.toFixed(1)} s\n  ${samples.join("\n  ")}\n`);
    await pg?.close();
  };
}

process.once("SIGTERM", async () => {
  const traced = traceStop();
  await b.stop();
  await traced();
  if (databaseUrl && schema && !process.argv[4]) {
    const sql = new SQL(databaseUrl);
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.close();
  }
  if (!process.argv[3]) rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
});
