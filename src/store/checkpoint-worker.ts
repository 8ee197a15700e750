/**
 * The thread that checkpoints the SQLite store's WAL (`checkpointer.ts`): a connection of its own, so the
 * copy of the WAL into the database file and its fsyncs run here, not inside a commit on the broker's
 * event loop. Its messages are this repository's own, from `checkpointer.ts`, whose types it shares.
 */
import { SQL } from "bun";
import { statSync } from "node:fs";
import type { FromCheckpointWorker, ToCheckpointWorker } from "./checkpointer.ts";

declare const self: Worker;

let sql: SQL | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let running: Promise<void> | null = null;
/** the WAL file as of the last complete checkpoint: unchanged since, there is nothing to copy */
let seen = "";

const post = (m: FromCheckpointWorker) => self.postMessage(m);

function walState(file: string): string | null {
  try {
    const st = statSync(`${file}-wal`);
    return `${st.mtimeMs} ${st.size}`;
  } catch {
    return null;
  }
}

async function checkpoint(db: SQL, file: string): Promise<void> {
  const state = walState(file);
  if (state === null || state === seen) return;
  const started = performance.now();
  // PASSIVE: copies what no reader still needs and never waits for the broker's connection
  const [row] = (await db.unsafe("PRAGMA wal_checkpoint(PASSIVE)")) as { busy: number; log: number; checkpointed: number }[];
  if (!row) return;
  // a reader kept some frames: try again at the next tick even if nothing is written meanwhile
  if (row.busy === 0 && row.checkpointed === row.log) seen = state;
  post({ type: "checkpoint", frames: row.checkpointed, seconds: (performance.now() - started) / 1000 });
}

self.onmessage = async (event: MessageEvent<ToCheckpointWorker>) => {
  const m = event.data;
  if (m.type === "read") {
    try {
      if (!sql) throw new Error("the checkpoint worker has no connection");
      const rows = (await sql.unsafe(m.text, m.params)) as Record<string, unknown>[];
      post({ type: "rows", id: m.id, rows: [...rows] });
    } catch (err) {
      post({ type: "readFailed", id: m.id, message: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  if (m.type === "start") {
    try {
      const db = new SQL({ adapter: "sqlite", filename: m.file, readwrite: true });
      // a checkpoint syncs the WAL before it copies and the database after, as the broker's commits assume
      await db.unsafe("PRAGMA synchronous = FULL");
      sql = db;
      timer = setInterval(() => {
        if (running) return;
        running = checkpoint(db, m.file)
          .catch((err: unknown) => post({ type: "error", message: err instanceof Error ? err.message : String(err) }))
          .finally(() => {
            running = null;
          });
      }, m.intervalMs);
      post({ type: "started" });
    } catch (err) {
      post({ type: "error", message: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  clearInterval(timer);
  await running;
  await sql?.close().catch(() => {});
  post({ type: "stopped" });
};
