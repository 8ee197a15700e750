/**
 * Files: a 500 MB upload and download through a broker running as its own process, with the broker's
 * RSS sampled during each transfer next to its idle RSS (streaming means it stays flat), and throughput
 * next to a raw `Bun.file` copy of the same file on the same disk in the same run.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brokerRequest } from "../../src/client/http.ts";
import { FileToken } from "../../src/files/api.ts";
import { FilesClient } from "../../src/files/client.ts";
import { addBenchMember, createBenchMesh } from "./harness.ts";

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

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "cm-bench-files-"));
  const dataDir = join(dir, "broker");
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  try {
    const src = join(dir, "big.bin");
    await writeTestFile(src, SIZE_MB);
    const bytes = SIZE_MB * MB;

    const t0 = performance.now();
    await Bun.write(join(dir, "raw-copy.bin"), Bun.file(src));
    const rawMs = performance.now() - t0;
    rmSync(join(dir, "raw-copy.bin"));

    const port = (() => {
      const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      const p = s.port;
      s.stop(true);
      return p;
    })();
    const env = { ...process.env } as Record<string, string>;
    for (const k of ["DATABASE_URL", "S3_ENDPOINT", "MINIO_ENDPOINT"]) delete env[k];
    proc = Bun.spawn(
      [
        process.execPath,
        join(import.meta.dir, "../../src/cli/main.ts"),
        "broker",
        "--port",
        String(port),
        "--data-dir",
        dataDir,
        "--max-file-size",
        `${SIZE_MB + 1}M`,
      ],
      {
        env,
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    let banner = "";
    while (!banner.includes("listening on")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`broker exited: ${banner}`);
      banner += new TextDecoder().decode(value);
    }
    void (async () => {
      while (!(await reader.read()).done);
    })();
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
    await files.download(w.id, join(dir, "warm-copy.bin"));
    Bun.gc(true);
    const idle = Math.max(...(await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await Bun.sleep(i * 20), rss(proc!.pid))))));

    const up = await peakRss(proc.pid, () => files.upload(src));
    const down = await peakRss(proc.pid, () => files.download(up.result.id, join(dir, "downloaded.bin")));
    const same = (await Bun.file(join(dir, "downloaded.bin")).size) === bytes;

    console.log(`  ${SIZE_MB} MB file, broker in its own process, local-disk store${same ? "" : "  (SIZE MISMATCH)"}`);
    console.log(`  raw Bun.file copy (baseline)  ${rate(bytes, rawMs)}`);
    console.log(`  upload   (POST /upload)       ${rate(bytes, up.ms)}   broker RSS peak ${mb(up.peak)} (idle ${mb(idle)}, +${mb(up.peak - idle)})`);
    console.log(`  download (signed URL)         ${rate(bytes, down.ms)}   broker RSS peak ${mb(down.peak)} (idle ${mb(idle)}, +${mb(down.peak - idle)})`);
  } finally {
    proc?.kill();
    await proc?.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
