/**
 * The broker under test, in a process of its own (the clients' work must not share its event loop):
 * `bun broker-proc.ts [postgres-url] [data-dir schema]`. Limits that would refuse a benchmark's single
 * address and single member are lifted; everything else is the production broker. Prints one JSON line
 * once listening. A restart (the reconnect storm) passes the data dir and schema it had, and
 * `BENCH_PORT` for the same port; `BENCH_MAX_PENDING_HELLOS` overrides the node's hello gate.
 */
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
process.once("SIGTERM", async () => {
  await b.stop();
  if (databaseUrl && schema && !process.argv[4]) {
    const { SQL } = await import("bun");
    const sql = new SQL(databaseUrl);
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.close();
  }
  if (!process.argv[3]) rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
});
