/**
 * Files: a 500 MB upload and download through a broker running as its own process, on each store it
 * ships with: SQLite and local disk (the default), Postgres and local disk (when a Postgres URL is set),
 * and SQLite with an S3 store (a real S3-compatible server, s3rver, in a process of its own). The broker's
 * RSS is sampled during each transfer next to its idle RSS (streaming means it stays flat). Baselines from
 * the same run: a raw `Bun.file` copy of the same file on the same disk, and for S3 the broker's own S3
 * client code (`S3BlobStore`) putting and getting the file in this process, straight to the same server.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import type { S3Config } from "../../src/blob/config.ts";
import { S3BlobStore } from "../../src/blob/s3.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { FileToken } from "../../src/files/api.ts";
import { FilesClient } from "../../src/files/client.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { addBenchMember, createBenchMesh, spawnReady } from "./harness.ts";

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.BENCH_FILE_MB ?? 500);

/** Resident set size of a process, in bytes (Linux /proc; `ps` elsewhere). */
function rss(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  const out = Bun.spawnSync(["ps", "-o", "rss=", "-p", String(pid)])
    .stdout.toString()
    .trim();
  return Number(out) * 1024;
}

/** Samples `pid`'s RSS every 20 ms while `work` runs; the peak. */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number; ms: number }> {
  let peak = rss(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
  const t = performance.now();
  try {
    const result = await work();
    return { result, peak: Math.max(peak, rss(pid)), ms: performance.now() - t };
  } finally {
    clearInterval(timer);
  }
}

async function writeTestFile(path: string, mb: number): Promise<void> {
  const chunk = crypto.getRandomValues(new Uint8Array(MB));
  const out = createWriteStream(path);
  for (let i = 0; i < mb; i++) {
    chunk[0] = i & 0xff;
    if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

const rate = (bytes: number, ms: number) => `${(bytes / MB / (ms / 1000)).toFixed(0).padStart(5)} MB/s`;
const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;

const freePort = () => {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
};

interface Store {
  label: string;
  env: Record<string, string>;
}

/** One upload and one download of `src` through a broker on `store`, in a process of its own. */
async function throughBroker(store: Store, dir: string, src: string, bytes: number): Promise<void> {
  const dataDir = mkdtempSync(join(dir, "broker-"));
  const port = freePort();
  const env = { ...process.env, ...store.env } as Record<string, string>;
  const { proc } = await spawnReady(
    [join(import.meta.dir, "../../src/cli/main.ts"), "broker", "--port", String(port), "--data-dir", dataDir, "--max-file-size", `${SIZE_MB + 1}M`],
    (t) => t.includes("listening on"),
    { env },
  );
  try {
    const url = `http://127.0.0.1:${port}`;
    const b = { url, adminToken: readFileSync(join(dataDir, "admin-token"), "utf8").trim() } as Parameters<typeof createBenchMesh>[0];
    const mesh = await createBenchMesh(b, "bench-files", "owner");
    const member = await addBenchMember(b, mesh, "Alice");
    const tok = await brokerRequest(url, "POST", "/files/token", FileToken, { auth: { kind: "member", mesh: member } });
    const files = new FilesClient(url, () => tok.token);

    // warm up the routes (and the JIT) with a small file, then measure idle
    const warm = join(dir, "warm.bin");
    await Bun.write(warm, new Uint8Array(MB));
    const w = await files.upload(warm);
    await files.download(w.id, join(dir, "warm-copy.bin"), { overwrite: true });
    const idle = Math.max(...(await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await Bun.sleep(i * 20), rss(proc.pid))))));

    const out = join(dir, "downloaded.bin");
    const up = await peakRss(proc.pid, () => files.upload(src));
    const down = await peakRss(proc.pid, () => files.download(up.result.id, out, { overwrite: true }));
    const same = (await Bun.file(out).size) === bytes;
    rmSync(out, { force: true });
    console.log(`  ${store.label}${same ? "" : "  (SIZE MISMATCH)"}`);
    console.log(`    upload   (POST /upload)       ${rate(bytes, up.ms)}   broker RSS peak ${mb(up.peak)} (idle ${mb(idle)}, +${mb(up.peak - idle)})`);
    console.log(`    download (streamed)           ${rate(bytes, down.ms)}   broker RSS peak ${mb(down.peak)} (idle ${mb(idle)}, +${mb(down.peak - idle)})`);
  } finally {
    proc.kill();
    await proc.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The baseline of the S3 rows: the broker's S3 client code in this process, straight to the same server. */
async function straightToS3(config: S3Config, dir: string, src: string, bytes: number): Promise<void> {
  const s3 = new S3BlobStore(config);
  try {
    await s3.ensureBucket("bench-baseline");
    let t = performance.now();
    await s3.put("bench-baseline", "big.bin", Bun.file(src).stream(), {
      maxBytes: bytes + 1,
      tooLarge: () => new WireError("file_too_large", "the baseline file is larger than itself"),
      contentType: "application/octet-stream",
    });
    const putMs = performance.now() - t;
    t = performance.now();
    const body = await s3.get("bench-baseline", "big.bin");
    if (!body) throw new Error("the baseline's object is gone");
    const out = join(dir, "s3-copy.bin");
    await Bun.write(out, new Response(body));
    const getMs = performance.now() - t;
    const same = (await Bun.file(out).size) === bytes;
    rmSync(out, { force: true });
    await s3.delete("bench-baseline", "big.bin");
    console.log(`  baseline: S3BlobStore in this process, straight to s3rver${same ? "" : "  (SIZE MISMATCH)"}`);
    console.log(`    put                           ${rate(bytes, putMs)}`);
    console.log(`    get                           ${rate(bytes, getMs)}`);
  } finally {
    await s3.close();
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "cm-bench-files-"));
  const pg = process.env.CLAUDEMESH_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  const schema = `cm_bench_files_${Date.now().toString(36)}`;
  let s3proc: ReturnType<typeof Bun.spawn> | null = null;
  try {
    const src = join(dir, "big.bin");
    await writeTestFile(src, SIZE_MB);
    const bytes = SIZE_MB * MB;

    const t0 = performance.now();
    await Bun.write(join(dir, "raw-copy.bin"), Bun.file(src));
    const rawMs = performance.now() - t0;
    rmSync(join(dir, "raw-copy.bin"));
    console.log(`  ${SIZE_MB} MB file, the broker in its own process`);
    console.log(`  baseline: raw Bun.file copy on this disk  ${rate(bytes, rawMs)}`);

    // the broker's environment picks its stores: none of the caller's leaks in
    const none = { DATABASE_URL: "", S3_ENDPOINT: "", MINIO_ENDPOINT: "", CLAUDEMESH_DB_SCHEMA: "" };
    await throughBroker({ label: "SQLite, local disk", env: none }, dir, src, bytes);
    if (pg) await throughBroker({ label: "Postgres, local disk", env: { ...none, DATABASE_URL: pg, CLAUDEMESH_DB_SCHEMA: schema } }, dir, src, bytes);
    else console.log("  Postgres skipped (set CLAUDEMESH_TEST_DATABASE_URL)");

    const s3 = await spawnReady([join(import.meta.dir, "files/s3-proc.ts")], (t) => t.includes("\n"));
    s3proc = s3.proc;
    const config = { ...(JSON.parse(s3.text) as Omit<S3Config, "publicUrl">), publicUrl: null };
    await straightToS3(config, dir, src, bytes);
    const s3env = { S3_ENDPOINT: config.endpoint, S3_ACCESS_KEY: config.accessKey, S3_SECRET_KEY: config.secretKey, S3_REGION: config.region };
    await throughBroker({ label: "SQLite, S3 (s3rver)", env: { ...none, ...s3env } }, dir, src, bytes);
  } finally {
    s3proc?.kill();
    await s3proc?.exited;
    if (pg) {
      const sql = new SQL(pg);
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
