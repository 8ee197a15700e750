/**
 * Speed at scale (#13): the broker in its own process, the sessions in this one (the storm's in two more),
 * every figure next to a raw Bun.serve WebSocket relay measured in the same run. Sessions are connected in
 * stages (100, 1,000, 10,000): latency at each, throughput, broadcast and the backlog at 1,000, memory at
 * the last; then every session disconnects, and the reconnect storm restarts the broker under the
 * product's own reconnecting clients. `BENCH_SMOKE=1` (npm run bench -- --smoke) is the quick CI run.
 * Prints a table and writes bench/results.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { SQL, type Subprocess } from "bun";
import { brokerRequest } from "../../src/client/http.ts";
import { CreateMeshResponse, InviteResponse, JoinResponse } from "../../src/meshes/api.ts";
import { fastKeyPair, type Member, offArrival, onArrival, Session, sendFrame } from "./scale/client.ts";

const SMOKE = process.env.BENCH_SMOKE === "1";
const STAGES = (process.env.BENCH_STAGES ?? (SMOKE ? "20,100" : "100,1000,10000")).split(",").map(Number);
const LAST = STAGES.at(-1) as number;
/** the stage that also measures throughput, broadcast and the backlog: 1,000 when it is one */
const MAIN = STAGES.includes(1000) ? 1000 : LAST;
const STORM = Number(process.env.BENCH_STORM ?? LAST);
const STORM_PROCS = 2;
const LATENCY_MSGS = Number(process.env.BENCH_LATENCY_MSGS ?? (SMOKE ? 200 : 2000));
const THROUGHPUT_SECS = Number(process.env.BENCH_THROUGHPUT_SECS ?? (SMOKE ? 1 : 4));
const SENDERS = Math.min(50, Math.floor(MAIN / 2));
const BROADCASTS = Number(process.env.BENCH_BROADCASTS ?? (SMOKE ? 5 : 20));
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? (SMOKE ? 10_000 : 100_000));
const ROOT = join(import.meta.dir, "../..");
const BROKER_PROC = join(import.meta.dir, "scale/broker-proc.ts");
const RELAY_PROC = join(import.meta.dir, "scale/relay-proc.ts");

type Kind = "relay" | "sqlite" | "postgres";
type Proc = Subprocess<"ignore", "pipe", "inherit">;
interface Target {
  kind: Kind;
  proc: Proc;
  /** the target's next stdout line (after the first: its memory samples) */
  next(): Promise<Record<string, unknown>>;
  wsUrl: string;
  url: string;
  port: number;
  pg?: string;
  adminToken?: string;
  dataDir?: string;
  schema?: string;
  member: Member | null;
}

/** A child that speaks one JSON object a line on stdout; `next` resolves with the next line's. */
function spawnLines(args: string[], env: Record<string, string> = {}): { proc: Proc; next(): Promise<Record<string, unknown>> } {
  const proc = Bun.spawn([process.execPath, ...args], { stdin: "ignore", stdout: "pipe", stderr: "inherit", cwd: ROOT, env: { ...process.env, ...env } });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    proc,
    async next() {
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`${args.join(" ")} exited before its next line`);
        text += decoder.decode(value, { stream: true });
      }
      const line = text.slice(0, text.indexOf("\n"));
      text = text.slice(text.indexOf("\n") + 1);
      return JSON.parse(line);
    },
  };
}

/** BENCH_CPU_PROF=dir: the broker writes a CPU profile (markdown) there when it stops */
const profArgs = (name: string) =>
  process.env.BENCH_CPU_PROF ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${name}.md`] : [];

async function startTarget(kind: Kind, pg: string | undefined): Promise<Target> {
  if (kind === "relay") {
    const { proc, next } = spawnLines([RELAY_PROC]);
    const info = await next();
    const url = info.url as string;
    return { kind, proc, next, wsUrl: info.wsUrl as string, url, port: Number(new URL(url).port), member: null };
  }
  // The bench owns the data dir and schema, so a restarted broker finds them; it removes them at the end.
  const dataDir = mkdtempSync(join(tmpdir(), "cm-bench-"));
  const schema = kind === "postgres" ? `cm_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}` : undefined;
  const { proc, next } = spawnLines([...profArgs(`broker-${kind}`), BROKER_PROC, kind === "postgres" ? (pg as string) : "", dataDir, schema ?? ""]);
  const info = await next();
  const url = info.url as string;
  const adminToken = info.adminToken as string;
  // One member with many sessions: a mesh of N sessions without N joins (sessions of one member may share nothing but the key).
  const owner = fastKeyPair();
  const mesh = await brokerRequest(url, "POST", "/admin/meshes", CreateMeshResponse, {
    auth: { kind: "admin", token: adminToken },
    body: { slug: "bench", ownerPubkey: owner.publicKey, ownerName: "owner" },
  });
  const keys = fastKeyPair();
  const inv = await brokerRequest(url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: { kind: "admin", token: adminToken }, body: {} });
  const j = await brokerRequest(url, "POST", "/join", JoinResponse, { body: { token: inv.token, pubkey: keys.publicKey, displayName: "bench" } });
  return {
    kind,
    proc,
    next,
    wsUrl: info.wsUrl as string,
    url,
    port: Number(new URL(url).port),
    ...(pg && kind === "postgres" ? { pg } : {}),
    adminToken,
    dataDir,
    ...(schema ? { schema } : {}),
    member: { meshId: mesh.meshId, memberId: j.memberId, pubkey: keys.publicKey, secretKey: keys.secretKey },
  };
}

/** Stops the broker and starts it again on the same port and data: when it was told to stop, when the new one listens. */
async function restartTarget(t: Target): Promise<{ stopAt: number; exitedAt: number; readyAt: number }> {
  const stopAt = Date.now();
  t.proc.kill("SIGTERM");
  await t.proc.exited;
  const exitedAt = Date.now();
  const args = t.kind === "relay" ? [RELAY_PROC] : [...profArgs(`broker-${t.kind}-restarted`), BROKER_PROC, t.pg ?? "", t.dataDir as string, t.schema ?? ""];
  const { proc, next } = spawnLines(args, { BENCH_PORT: String(t.port) });
  await next();
  t.proc = proc;
  t.next = next;
  return { stopAt, exitedAt, readyAt: Date.now() };
}

async function stopTarget(t: Target): Promise<void> {
  t.proc.kill("SIGTERM");
  await t.proc.exited;
  if (t.dataDir) rmSync(t.dataDir, { recursive: true, force: true });
  if (t.pg && t.schema) {
    const sql = new SQL(t.pg);
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${t.schema} CASCADE`);
    await sql.close();
  }
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** The target process's CPU time so far, user + system, every thread (Linux `/proc/<pid>/stat`, 10 ms ticks). */
function cpuMs(t: Target): number {
  const fields = readFileSync(`/proc/${t.proc.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The target's RSS and JS heap after a full collection (memory-probe.ts). */
async function memory(t: Target): Promise<{ rss: number; heap: number }> {
  t.proc.kill("SIGUSR2");
  const line = await t.next();
  return line.memory as { rss: number; heap: number };
}

/**
 * The broker's own view: /metrics (admin token); prom-client's event-loop figures reset at each scrape.
 * The relay has no /metrics: its event-loop lag, sampled the same way, comes from its /lag.
 */
async function scrape(t: Target): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!t.adminToken) {
    const lag = (await (await fetch(`${t.url}/lag`)).json()) as { p99: number; max: number };
    out.set("nodejs_eventloop_lag_p99_seconds", lag.p99);
    out.set("nodejs_eventloop_lag_max_seconds", lag.max);
    return out;
  }
  const text = await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } })).text();
  const { default: parse } = await import("parse-prometheus-text-format");
  for (const f of parse(text)) {
    let sum = 0;
    for (const m of f.metrics) sum += Number(m.value ?? m.count ?? 0);
    out.set(f.name, sum);
  }
  return out;
}

let markers = 0;
const marker = () => `m${markers++}`;

/** Sends and resolves when every one of `expect` sessions has been pushed it. */
function sendAndWait(from: Session, to: Session | "*", expect: number): Promise<void> {
  const m = marker();
  let left = expect;
  const done = new Promise<void>((resolve) =>
    onArrival(m, () => {
      if (--left === 0) {
        offArrival(m);
        resolve();
      }
    }),
  );
  from.ws.send(JSON.stringify({ ...sendFrame(m, to), id: m }));
  return done;
}

/** Adds sessions until there are `n`, 50 connecting at a time; the rate is of those added. */
async function connectUpTo(t: Target, sessions: Session[], n: number, prefix: string): Promise<number> {
  const from = sessions.length;
  let next = from;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < n) {
        const i = next++;
        sessions[i] = await Session.open(t.wsUrl, `${prefix}${i}`, t.member);
      }
    }),
  );
  return (n - from) / ((performance.now() - started) / 1000);
}

async function latency(sessions: Session[], count: number): Promise<{ p50: number; p99: number; p999: number }> {
  const [a, b] = sessions as [Session, Session];
  for (let i = 0; i < 50; i++) await sendAndWait(a, b, 1); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await sendAndWait(a, b, 1);
    lat.push(performance.now() - t);
  }
  return { p50: pct(lat, 50), p99: pct(lat, 99), p999: pct(lat, 99.9) };
}

/**
 * Delivered messages a second in a closed loop, with what each cost in CPU: the target's (every thread)
 * and the bench's own clients' — on two shared cores their sum is what bounds the rate.
 */
async function throughput(t: Target, sessions: Session[]): Promise<Throughput> {
  let delivered = 0;
  const deadline = performance.now() + THROUGHPUT_SECS * 1000;
  const started = performance.now();
  const targetCpu = cpuMs(t);
  const clientCpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, i) => {
      const from = sessions[i] as Session;
      const to = sessions[SENDERS + i] as Session;
      while (performance.now() < deadline) {
        await sendAndWait(from, to, 1);
        delivered++;
      }
    }),
  );
  const used = process.cpuUsage(clientCpu);
  return {
    perSec: delivered / ((performance.now() - started) / 1000),
    targetCpuUsPerMsg: ((cpuMs(t) - targetCpu) * 1000) / delivered,
    clientCpuUsPerMsg: (used.user + used.system) / delivered,
  };
}

async function broadcast(sessions: Session[]): Promise<{ p50: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < BROADCASTS; i++) {
    const t = performance.now();
    await sendAndWait(sessions[0] as Session, "*", sessions.length - 1);
    times.push(performance.now() - t);
  }
  return { p50: pct(times, 50), max: Math.max(...times) };
}

/** Queues `n` messages for sessions that are not connected, straight into the store (as a long-lived broker would have). */
async function fillBacklog(t: Target, n: number, pg: string | undefined): Promise<void> {
  const sql =
    t.kind === "postgres"
      ? new SQL({ url: pg as string, connection: { search_path: t.schema as string } })
      : new SQL({ adapter: "sqlite", filename: join(t.dataDir as string, "claudemesh.sqlite") });
  // the broker is writing too: wait for its lock rather than fail
  if (t.kind === "sqlite") await sql.unsafe("PRAGMA busy_timeout = 30000");
  const member = t.member as Member;
  const series =
    t.kind === "postgres"
      ? `SELECT g AS i FROM generate_series(1, ${n}) g`
      : `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s`;
  const far = Date.now() + 86_400_000;
  await sql.begin(async (tx) => {
    await tx.unsafe(
      `INSERT INTO message (id, mesh_id, sender_member_id, sender_session_pubkey, sender_name, client_id, target_spec, priority, kind, nonce, ciphertext, created_at, bytes, expires_at)
       SELECT 'backlog' || i, '${member.meshId}', '${member.memberId}', 'offline', 'offline', 'backlog' || i, 'away', 'next', 'direct', NULL, NULL, ${Date.now()}, 0, ${far} FROM (${series}) q`,
    );
    await tx.unsafe(
      `INSERT INTO message_recipient (message_id, mesh_id, session_pubkey, member_id, name, nonce, ciphertext, status, queued_at, expires_at)
       SELECT 'backlog' || i, '${member.meshId}', 'away' || (i % 1000), '${member.memberId}', 'away', '${"A".repeat(32)}', 'backlog', 'queued', ${Date.now()}, ${far} FROM (${series}) q`,
    );
  });
  await sql.close();
}

async function disconnectAll(t: Target, sessions: Session[]): Promise<number> {
  const started = performance.now();
  for (const s of sessions) s.close();
  for (;;) {
    const left = t.adminToken ? ((await scrape(t)).get("claudemesh_sessions") ?? 0) : Number(await (await fetch(`${t.url}/count`)).text());
    if (left === 0) return (performance.now() - started) / 1000;
    await Bun.sleep(10); // polling the server's own count: the figure is when it reaches zero, to ±10 ms
  }
}

interface Latency {
  p50: number;
  p99: number;
  p999: number;
}
interface Stage {
  sessions: number;
  connectPerSec: number;
  /** the target process's CPU time (every thread) per session connected: the bench's clients share the machine */
  cpuMsPerConnect: number;
  latency: Latency;
}
interface Storm {
  sessions: number;
  /** broker told to stop → the new one serving (its ready line, or the first session back if that came first) */
  downSecs: number;
  /** of which the old broker's shutdown (SIGTERM → exit) */
  stopSecs: number;
  /** the new broker serving → every session back */
  backSecs: number;
  /** the new broker serving → half the sessions back */
  halfBackSecs: number;
  busyRefusals: number;
  rateLimitedRefusals: number;
}
interface Throughput {
  perSec: number;
  targetCpuUsPerMsg: number;
  clientCpuUsPerMsg: number;
}
interface Row {
  stages: Stage[];
  throughput: Throughput;
  broadcast: { p50: number; max: number };
  latencyWithBacklog?: Latency;
  disconnectSecs: number;
  eventLoopLagP99Ms?: number;
  eventLoopLagMaxMs?: number;
  /** one GET /metrics with every session of the last stage connected (the broker's event loop answers it) */
  scrapeMs?: number;
  /** what the last stage's sessions added, after a full collection before and after they connect, per session */
  rssPerSessionBytes?: number;
  heapPerSessionBytes?: number;
  /** RSS with every session of the last stage connected */
  rssMB?: number;
  storm?: Storm;
}

/**
 * The product's reconnecting clients in STORM_PROCS processes (the relay's: raw sockets with the same
 * backoff), all connected; then the broker restarts under them.
 */
async function storm(t: Target, n: number): Promise<Storm> {
  const procs = Array.from({ length: STORM_PROCS }, (_, i) => {
    const count = Math.floor(n / STORM_PROCS) + (i < n % STORM_PROCS ? 1 : 0);
    return spawnLines([join(import.meta.dir, "scale/storm-proc.ts"), JSON.stringify({ brokerUrl: t.url, member: t.member, count, prefix: `st${i}-` })]);
  });
  try {
    for (const p of procs) await p.next();
    const { stopAt, exitedAt, readyAt } = await restartTarget(t);
    const back = await Promise.all(procs.map((p) => p.next()));
    const last = Math.max(...back.map((b) => b.allBack as number));
    // startBroker returns (and the ready line is printed) after a few statements that follow the listen,
    // which queue behind the storm's hellos: sessions can be back before it
    const servingAt = Math.min(readyAt, ...back.map((b) => (b.first as number | undefined) ?? readyAt));
    // the median of the processes' medians: they hold equal shares
    const half = back.map((b) => b.p50 as number).sort((a, b) => a - b)[Math.floor((back.length - 1) / 2)] as number;
    const sum = (k: string) => back.reduce((acc, b) => acc + Number(b[k] ?? 0), 0);
    return {
      sessions: n,
      downSecs: (servingAt - stopAt) / 1000,
      stopSecs: (exitedAt - stopAt) / 1000,
      backSecs: (last - servingAt) / 1000,
      halfBackSecs: (half - servingAt) / 1000,
      busyRefusals: sum("busy"),
      rateLimitedRefusals: sum("rateLimited"),
    };
  } finally {
    for (const p of procs) p.proc.kill("SIGTERM");
    await Promise.all(procs.map((p) => p.proc.exited));
  }
}

async function benchTarget(kind: Kind, pg: string | undefined): Promise<Row> {
  const t = await startTarget(kind, pg);
  try {
    const sessions: Session[] = [];
    const stages: Stage[] = [];
    let mem: Pick<Row, "rssPerSessionBytes" | "heapPerSessionBytes" | "rssMB"> = {};
    let main: Omit<Row, "stages" | "disconnectSecs"> | undefined;
    for (const n of STAGES) {
      const from = sessions.length;
      const before = n === LAST && from > 0 ? await memory(t) : undefined;
      const cpuBefore = cpuMs(t);
      const connectPerSec = await connectUpTo(t, sessions, n, "s");
      const cpuMsPerConnect = (cpuMs(t) - cpuBefore) / (n - from);
      if (before) {
        const after = await memory(t);
        mem = {
          rssPerSessionBytes: (after.rss - before.rss) / (n - from),
          heapPerSessionBytes: (after.heap - before.heap) / (n - from),
          rssMB: after.rss / 1024 / 1024,
        };
      }
      stages.push({ sessions: n, connectPerSec, cpuMsPerConnect, latency: await latency(sessions, LATENCY_MSGS) });
      if (n !== MAIN) continue;
      const tp = await throughput(t, sessions);
      await scrape(t); // resets the event-loop histogram: the next one covers the broadcasts alone
      const bc = await broadcast(sessions);
      const lag = await scrape(t);
      let withBacklog: Latency | undefined;
      if (kind !== "relay") {
        await fillBacklog(t, BACKLOG, pg);
        withBacklog = await latency(sessions, Math.min(LATENCY_MSGS, 1000));
      }
      main = {
        throughput: tp,
        broadcast: bc,
        ...(withBacklog ? { latencyWithBacklog: withBacklog } : {}),
        ...(lag.has("nodejs_eventloop_lag_p99_seconds")
          ? {
              eventLoopLagP99Ms: (lag.get("nodejs_eventloop_lag_p99_seconds") ?? 0) * 1000,
              eventLoopLagMaxMs: (lag.get("nodejs_eventloop_lag_max_seconds") ?? 0) * 1000,
            }
          : {}),
      };
    }
    let scrapeMs: number | undefined;
    if (t.adminToken) {
      const started = performance.now();
      await scrape(t);
      scrapeMs = performance.now() - started;
    }
    const disconnectSecs = await disconnectAll(t, sessions);
    return {
      ...(scrapeMs === undefined ? {} : { scrapeMs }),
      stages,
      ...(main as Omit<Row, "stages" | "disconnectSecs">),
      disconnectSecs,
      ...mem,
      ...(STORM > 0 ? { storm: await storm(t, STORM) } : {}),
    };
  } finally {
    await stopTarget(t);
  }
}

/** `claudemesh mcp` from spawn to its initialize answer; baseline: the same binary's `--version`. */
async function coldStart(): Promise<{ mcpMs: number; versionMs: number; binaryMB: number } | null> {
  const bin = join(ROOT, "dist/claudemesh");
  const file = Bun.file(bin);
  if (!(await file.exists())) return null;
  const home = join(ROOT, "node_modules/.cache/cm-bench-home");
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "config.json"), JSON.stringify({ version: 1, meshes: [] }), { mode: 0o600 });
  const runs = SMOKE ? 3 : 10;
  const mcp: number[] = [];
  const version: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const v = Bun.spawn([bin, "--version"], { stdout: "ignore", stderr: "ignore" });
    await v.exited;
    version.push(performance.now() - t);
    t = performance.now();
    const p = Bun.spawn([bin, "mcp"], { env: { ...process.env, CLAUDEMESH_HOME: home }, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    p.stdin.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } } })}\n`,
    );
    p.stdin.flush();
    const reader = p.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    mcp.push(performance.now() - t);
    p.kill();
    await p.exited;
  }
  return { mcpMs: pct(mcp, 50), versionMs: pct(version, 50), binaryMB: file.size / 1024 / 1024 };
}

const ms = (x: number | undefined) => (x === undefined ? "—" : x < 1 ? x.toFixed(3) : x.toFixed(1));
const pctOf = (x: number, base: number) => `${((x / base) * 100).toFixed(0)} %`;

export async function run(): Promise<void> {
  const pg = process.env.CLAUDEMESH_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  const kinds: Kind[] = ["relay", "sqlite", ...(pg ? (["postgres"] as const) : [])].filter(
    (k) => !process.env.BENCH_ONLY || k === "relay" || k === process.env.BENCH_ONLY,
  ) as Kind[];
  console.log(
    `scale: stages of ${STAGES.join(" / ")} sessions, ${LATENCY_MSGS} sequential messages each; at ${MAIN}: ${SENDERS} concurrent senders for ${THROUGHPUT_SECS} s, ${BROADCASTS} broadcasts, backlog ${BACKLOG}; storm of ${STORM}${SMOKE ? " (smoke)" : ""}`,
  );
  if (!pg) console.log("  postgres skipped (set CLAUDEMESH_TEST_DATABASE_URL)");
  const rows: Partial<Record<Kind, Row>> = {};
  for (const k of kinds) {
    rows[k] = await benchTarget(k, pg);
    console.log(`  ${k} done`);
  }
  const cold = await coldStart();
  const relay = rows.relay as Row;
  const line = (label: string, f: (r: Row) => string) => console.log(`  ${label.padEnd(44)}${kinds.map((k) => f(rows[k] as Row).padStart(24)).join("")}`);
  const lat = (l: Latency | undefined) => (l ? `${ms(l.p50)} / ${ms(l.p99)} / ${ms(l.p999)}` : "—");
  console.log(`  ${"".padEnd(44)}${kinds.map((k) => (k === "relay" ? "raw relay" : `claudemesh ${k}`).padStart(24)).join("")}`);
  for (const [i, n] of STAGES.entries()) line(`send→push p50 / p99 / p99.9 ms, ${n} sessions`, (r) => lat(r.stages[i]?.latency));
  line(`  … at ${MAIN} with ${BACKLOG} queued for others`, (r) => lat(r.latencyWithBacklog));
  line(`delivered msg/s, ${SENDERS} senders`, (r) => `${Math.round(r.throughput.perSec)} (${pctOf(r.throughput.perSec, relay.throughput.perSec)})`);
  line("  … CPU µs per message: target / clients", (r) => `${Math.round(r.throughput.targetCpuUsPerMsg)} / ${Math.round(r.throughput.clientCpuUsPerMsg)}`);
  line(`broadcast to ${MAIN - 1}: last p50 / max ms`, (r) => `${ms(r.broadcast.p50)} / ${ms(r.broadcast.max)}`);
  line("event-loop lag in broadcasts p99 / max ms", (r) =>
    r.eventLoopLagP99Ms === undefined ? "—" : `${ms(r.eventLoopLagP99Ms)} / ${ms(r.eventLoopLagMaxMs)}`,
  );
  line(`GET /metrics at ${LAST} sessions, ms`, (r) => (r.scrapeMs === undefined ? "—" : ms(r.scrapeMs)));
  for (const [i, n] of STAGES.entries())
    line(
      `connects/s to ${n} (target CPU ms each)`,
      (r) => `${Math.round(r.stages[i]?.connectPerSec ?? 0)} (${(r.stages[i]?.cpuMsPerConnect ?? 0).toFixed(2)})`,
    );
  line(`${LAST} disconnects until zero, s`, (r) => r.disconnectSecs.toFixed(2));
  line(`RSS at ${LAST}, MB / per session added RSS, heap KB`, (r) =>
    r.rssMB === undefined
      ? "—"
      : `${r.rssMB.toFixed(0)} / ${((r.rssPerSessionBytes ?? 0) / 1024).toFixed(1)}, ${((r.heapPerSessionBytes ?? 0) / 1024).toFixed(1)}`,
  );
  line(`restart under ${STORM}: stop / down s`, (r) => (r.storm ? `${r.storm.stopSecs.toFixed(2)} / ${r.storm.downSecs.toFixed(2)}` : "—"));
  line("  … then half / all back s", (r) => (r.storm ? `${r.storm.halfBackSecs.toFixed(2)} / ${r.storm.backSecs.toFixed(2)}` : "—"));
  line("  … hellos refused busy / rate_limited", (r) => (r.storm ? `${r.storm.busyRefusals} / ${r.storm.rateLimitedRefusals}` : "—"));
  if (cold)
    console.log(
      `  claudemesh mcp cold start to initialize: ${cold.mcpMs.toFixed(0)} ms (baseline: --version ${cold.versionMs.toFixed(0)} ms); binary ${cold.binaryMB.toFixed(0)} MB`,
    );
  else console.log("  cold start skipped: no dist/claudemesh (npm run build)");
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?", memGB: Math.round(totalmem() / 1024 ** 3), bun: Bun.version },
    config: {
      smoke: SMOKE,
      stages: STAGES,
      main: MAIN,
      storm: STORM,
      latencyMessages: LATENCY_MSGS,
      senders: SENDERS,
      throughputSecs: THROUGHPUT_SECS,
      broadcasts: BROADCASTS,
      backlog: BACKLOG,
    },
    rows,
    coldStart: cold,
  };
  mkdirSync(join(ROOT, "bench"), { recursive: true });
  writeFileSync(join(ROOT, "bench", SMOKE ? "results.smoke.json" : "results.json"), `${JSON.stringify(results, null, 2)}\n`);
}

if (import.meta.main) await run();
