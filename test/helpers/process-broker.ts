import type { Subprocess } from "bun";
import type { Backend } from "./backends.ts";
import { dropSchema, freshSchema, markPostgresRan, PG_URL, tempDir } from "./backends.ts";
import { ensureBinary } from "./binary.ts";
import { closeClients } from "./broker.ts";

/** A free loopback port (bind to 0, read it, release it). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/**
 * The compiled binary running `claudemesh broker` as a real process; restartable on the same port and data.
 * Disposing it closes the test clients connected to it, then destroys it.
 */
export class ProcessBroker implements AsyncDisposable {
  proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  readonly port = freePort();
  readonly dir: { path: string; cleanup(): void } = tempDir("cm-pbroker-");
  readonly schema: string | undefined;
  url = `http://127.0.0.1:${this.port}`;
  output = "";
  private watchers: { re: RegExp; resolve: () => void }[] = [];

  /** Resolves once the broker's stdout matches `re` (it prints its banner after it starts listening). */
  waitForOutput(re: RegExp): Promise<void> {
    if (re.test(this.output)) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ re, resolve }));
  }

  private append(text: string): void {
    this.output += text;
    this.watchers = this.watchers.filter((w) => (w.re.test(this.output) ? (w.resolve(), false) : true));
  }

  /** Whether destroy() drops the schema: not when it is another node's (`shareSchema`). */
  private readonly ownsSchema: boolean;

  /**
   * `shareSchema`: another node of the same Postgres schema (several brokers on one store); `dir`: another
   * process on the same data dir (what a second broker on one SQLite file would be); `args`: extra flags;
   * `env`: extra environment (an S3 store: `S3_ENDPOINT`, …).
   */
  constructor(
    readonly backend: Backend,
    opts: { shareSchema?: string; dir?: { path: string; cleanup(): void }; args?: string[]; env?: Record<string, string> } = {},
  ) {
    this.schema = backend === "postgres" ? (opts.shareSchema ?? freshSchema()) : undefined;
    this.ownsSchema = opts.shareSchema === undefined;
    if (opts.dir) this.dir = opts.dir;
    this.args = opts.args ?? [];
    this.extraEnv = opts.env ?? {};
    if (backend === "postgres") markPostgresRan("process-broker");
  }

  private readonly args: string[];
  private readonly extraEnv: Record<string, string>;

  async start(): Promise<void> {
    const bin = await ensureBinary();
    const env: Record<string, string> = { ...(process.env as Record<string, string>), ...this.extraEnv };
    delete env.DATABASE_URL;
    if (this.backend === "postgres") {
      env.DATABASE_URL = PG_URL as string;
      env.CLAUDEMESH_DB_SCHEMA = this.schema as string;
    }
    const proc = Bun.spawn([bin, "broker", "--port", String(this.port), "--data-dir", this.dir.path, ...this.args], {
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.proc = proc;
    // Wait for this start's "listening" line rather than for time (the output of earlier starts is kept).
    const reader = proc.stdout.getReader();
    const decoder = new TextDecoder();
    const starts = () => this.output.split("listening on").length;
    const before = starts();
    while (starts() === before) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`broker exited early: ${this.output}${await new Response(proc.stderr).text()}`);
      this.append(decoder.decode(value));
    }
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        this.append(decoder.decode(value));
      }
    })();
  }

  /** kill -9: no shutdown hook runs, nothing is flushed by us. */
  async kill9(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
    this.proc = null;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.proc) return null;
    this.proc.kill(signal);
    const code = await this.proc.exited;
    this.proc = null;
    return code;
  }

  get adminToken(): string {
    const i = this.args.indexOf("--admin-token-file");
    const file = i >= 0 ? (this.args[i + 1] as string) : `${this.dir.path}/admin-token`;
    return require("node:fs").readFileSync(file, "utf8").trim();
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (this.schema && this.ownsSchema) await dropSchema(this.schema);
    this.dir.cleanup();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    closeClients(this.url);
    await this.destroy();
  }
}
