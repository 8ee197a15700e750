import type { SQL } from "bun";

export type ToCheckpointWorker =
  | { type: "start"; file: string; intervalMs: number }
  | { type: "stop" }
  | { type: "read"; id: number; text: string; params: unknown[] };
export type FromCheckpointWorker =
  | { type: "started" }
  | { type: "stopped" }
  | { type: "checkpoint"; frames: number; seconds: number }
  | { type: "error"; message: string }
  | { type: "rows"; id: number; rows: Record<string, unknown>[] }
  | { type: "readFailed"; id: number; message: string };

/** SQLite's own default, which the broker's connection goes back to when the worker cannot do it */
const AUTO_PAGES = 1_000;
/**
 * With the worker running, the broker's own commits checkpoint only past this many pages (~40 MB): a
 * backstop for a worker that falls behind (a reader holding an old snapshot, a disk slower than the writes).
 */
const BACKSTOP_PAGES = 10_000;
/** how often the worker looks at the WAL; a checkpoint at most this often, and only after commits */
const INTERVAL_MS = 100;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * The worker's entry. Compiled, every module is bundled into the binary's one entry (import.meta.url is the
 * binary's) and the worker is an entry of its own beside it, at its path under `src/` (scripts/compile.ts).
 */
function workerEntry(): string {
  const compiled = import.meta.url.includes("/$bunfs/");
  return new URL(compiled ? "./store/checkpoint-worker.ts" : "./checkpoint-worker.ts", import.meta.url).href;
}

export interface CheckpointerOptions {
  /** the worker's entry (tests give it one that fails) */
  workerUrl?: string;
  intervalMs?: number;
  /** other connections to the file, whose commits must checkpoint past the same number of pages */
  connections?: { autocheckpoint(pages: number): void }[];
}

/**
 * Keeps SQLite's WAL checkpointed from a worker thread. SQLite's default runs the checkpoint inside the
 * commit that grows the WAL past 1,000 pages: on the broker's event loop, a copy of ~4 MB into the database
 * file and two fsyncs (~11 ms for 1,050 frames; about one writer commit in a hundred in the scale bench),
 * during which no session is served. The worker's own connection runs `wal_checkpoint(PASSIVE)` after commits instead,
 * which never waits for the broker's connection nor makes it wait. If the worker fails, the broker's
 * connection checkpoints as SQLite does by default again: slower, never unsafe.
 */
export class Checkpointer {
  private worker: Worker | null = null;
  private stopping: Promise<void> | null = null;
  /** told each checkpoint the worker ran: frames copied (in total, as SQLite counts them) and its time */
  observe: ((frames: number, seconds: number) => void) | undefined;
  /** told why the worker stopped checkpointing, once */
  onFailure: ((message: string) => void) | undefined;
  /** why the worker failed, when it did; the broker's connection checkpoints since */
  failure: string | null = null;
  /** how many `read`s the worker's connection answered (the others ran on the broker's) */
  readsOffLoop = 0;
  private nextRead = 0;
  private readonly reads = new Map<number, { resolve(rows: Record<string, unknown>[]): void; reject(err: Error): void; text: string; params: unknown[] }>();

  private constructor(
    private readonly sql: SQL,
    private readonly connections: { autocheckpoint(pages: number): void }[],
  ) {}

  private async autocheckpoint(pages: number): Promise<void> {
    await this.sql.unsafe(`PRAGMA wal_autocheckpoint = ${pages}`);
    for (const c of this.connections) c.autocheckpoint(pages);
  }

  /** Starts the worker; settles once it runs, or once the broker's connection took checkpoints back. */
  static async start(sql: SQL, file: string, opts: CheckpointerOptions = {}): Promise<Checkpointer> {
    const c = new Checkpointer(sql, opts.connections ?? []);
    await c.autocheckpoint(BACKSTOP_PAGES);
    await new Promise<void>((settle) => {
      const ready = () => {
        clearTimeout(late);
        settle();
      };
      const failed = (message: string) => void c.fail(message).then(ready);
      // a worker that never answers must not hold the store's opening: the connection takes over
      const late = setTimeout(() => failed("the checkpoint worker did not start"), START_TIMEOUT_MS);
      let worker: Worker;
      try {
        worker = new Worker(opts.workerUrl ?? workerEntry());
      } catch (err) {
        failed(err instanceof Error ? err.message : String(err));
        return;
      }
      c.worker = worker;
      // a store nobody closed must not keep the process alive (Bun's Worker; the DOM lib's type lacks it)
      (worker as unknown as { unref(): void }).unref();
      worker.addEventListener("error", (e) => {
        e.preventDefault();
        failed(e.message || "the checkpoint worker failed");
      });
      worker.onmessage = (e: MessageEvent<FromCheckpointWorker>) => {
        const m = e.data;
        if (m.type === "started") ready();
        else if (m.type === "checkpoint") c.observe?.(m.frames, m.seconds);
        else if (m.type === "error") failed(m.message);
        else if (m.type === "rows" || m.type === "readFailed") c.answer(m);
      };
      const start: ToCheckpointWorker = { type: "start", file, intervalMs: opts.intervalMs ?? INTERVAL_MS };
      worker.postMessage(start);
    });
    return c;
  }

  /**
   * A read that may take long and need not be current to the commit (a gauge's count over every queued
   * row: ~7 ms at 400,000), on the worker's connection, so the broker's event loop is not held while it
   * runs. It sees what was committed when it starts, whether or not that is on disk yet. Without a
   * running worker it runs on the broker's connection. Reads only: the text is this repository's own.
   */
  read(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const worker = this.worker;
    if (!worker || this.stopping) return this.readHere(text, params);
    const id = ++this.nextRead;
    // an unref'd worker's answer would not keep the process waiting for it
    if (this.reads.size === 0) (worker as unknown as { ref(): void }).ref();
    return new Promise((resolve, reject) => {
      this.reads.set(id, { resolve, reject, text, params });
      const m: ToCheckpointWorker = { type: "read", id, text, params };
      worker.postMessage(m);
    });
  }

  private answer(m: Extract<FromCheckpointWorker, { type: "rows" | "readFailed" }>): void {
    const r = this.reads.get(m.id);
    if (!r) return;
    this.reads.delete(m.id);
    if (this.reads.size === 0) (this.worker as unknown as { unref(): void } | null)?.unref();
    if (m.type === "rows") {
      this.readsOffLoop++;
      r.resolve(m.rows);
    } else r.reject(new Error(m.message));
  }

  /** Reads the worker will not answer any more run on the broker's connection. */
  private rerunReads(): void {
    const pending = [...this.reads.values()];
    this.reads.clear();
    for (const r of pending) this.readHere(r.text, r.params).then(r.resolve, r.reject);
  }

  private readHere(text: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    return this.sql.unsafe(text, params) as Promise<Record<string, unknown>[]>;
  }

  /** The worker gives checkpoints back to the broker's connection, as SQLite's default has it. */
  private async fail(message: string): Promise<void> {
    if (this.failure !== null) return;
    this.failure = message;
    this.worker?.terminate();
    this.worker = null;
    this.rerunReads();
    await this.autocheckpoint(AUTO_PAGES).catch(() => {});
    this.onFailure?.(message);
  }

  /** Stops the worker after the checkpoint it may be running; the connection's close checkpoints the rest. */
  stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    this.stopping ??= new Promise<void>((done) => {
      const timeout = setTimeout(done, STOP_TIMEOUT_MS);
      worker.addEventListener("message", (e: MessageEvent<FromCheckpointWorker>) => {
        if (e.data.type !== "stopped") return;
        clearTimeout(timeout);
        done();
      });
      worker.addEventListener("close", () => {
        clearTimeout(timeout);
        done();
      });
      const stop: ToCheckpointWorker = { type: "stop" };
      worker.postMessage(stop);
    }).then(() => {
      worker.terminate();
      this.worker = null;
      this.rerunReads();
    });
    return this.stopping;
  }
}
