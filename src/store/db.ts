import { SQL } from "bun";
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir } from "../util/fs.ts";
import { Checkpointer } from "./checkpointer.ts";
import { FastWriter } from "./fast-writer.ts";
import type { Dialect } from "./migration.ts";
import { WalSync } from "./wal-sync.ts";
import { type FastParam, Writer } from "./writer.ts";

export interface Store {
  sql: SQL;
  dialect: Dialect;
  /** the shared group commit of the hot writes (`writer.ts`) */
  writer: Writer;
  /**
   * For reads whose best plan depends on their arguments (the delivery queue reads): planned for them
   * every time. On Postgres a pool of unprepared statements: a prepared one's cached plan, made while the
   * queues were small, went on scanning every queued row once they held 100,000 (~83 ms a queue read,
   * connects 2,000 → 200/s). SQLite plans every statement anyway: the same connection.
   */
  planned: SQL;
  /** SQLite: the worker that checkpoints its WAL off the event loop (`checkpointer.ts`) */
  checkpoints?: Checkpointer;
  /**
   * SQLite: a read that may take long and need not wait for the writer (a gauge's count over every queued
   * row), run off the event loop on the checkpoint worker's connection; `?` placeholders. Postgres has
   * none: its statements never hold the event loop.
   */
  slowRead?: (text: string, params: unknown[]) => Promise<Record<string, unknown>[]>;
  /**
   * SQLite: a hot read with its statement kept prepared, on the writer's fast connection (`fast-writer.ts`);
   * `?` placeholders; null when it could not run (read the general way). Postgres has none.
   */
  prepared?: (text: string, params: readonly FastParam[]) => Record<string, unknown>[] | null;
  close(): Promise<void>;
}

/**
 * `IN list` as a fragment that follows a column (`WHERE id ${inList(sql, dialect, ids)}`), the list sent as
 * one JSON parameter: one statement shape whatever the list's length. `IN ${sql(list)}` is a new shape for
 * every length, and Postgres keeps a prepared statement per shape on every connection (~25 KB each in the
 * broker, as much in the server): a connect storm's batches of every size grew the broker by megabytes.
 */
export function inList(sql: SQL, dialect: Dialect, values: readonly string[]) {
  const list = JSON.stringify(values);
  return dialect === "postgres" ? sql`= ANY(ARRAY(SELECT json_array_elements_text(${list}::text::json)))` : sql`IN (SELECT value FROM json_each(${list}))`;
}

type JsonColumn = string | readonly [string, "bigint"];

/**
 * Rows sent as one JSON parameter, as the `SELECT` an `INSERT` takes (`INSERT INTO t (a, b) ${jsonRows(…)}`),
 * in the order given: one statement shape whatever their number (`inList` says why), where a multi-row
 * `VALUES` list is a statement of thousands of placeholders compiled again for every batch. `columns`
 * names each row's keys in the insert's column order; `[key, "bigint"]` is cast on Postgres. Its `WHERE
 * true` lets SQLite read an `ON CONFLICT` after it.
 */
export function jsonRows(sql: SQL, dialect: Dialect, rows: readonly object[], columns: readonly JsonColumn[]) {
  const json = rowsJson(rows, columns);
  if (dialect === "sqlite") return sql`${sql.unsafe(sqliteFields(columns.length))} FROM jsonb_each(${json}) j WHERE true ORDER BY j.key`;
  const field = (c: JsonColumn, i: number) => (typeof c === "string" ? `e.v ->> ${i}` : `(e.v ->> ${i})::${c[1]}`);
  const fields = sql.unsafe(columns.map(field).join(", "));
  return sql`SELECT ${fields} FROM jsonb_array_elements(${json}::text::jsonb) WITH ORDINALITY AS e(v, i) WHERE true ORDER BY e.i`;
}

/**
 * `jsonRows`'s one parameter. Each row travels as an array in the columns' order: a field is then read by
 * its position instead of being looked up by name in every row's object, and the parameter is smaller (a
 * missing key is null either way). A batch of 18 messages' rows: SQLite ~230 → ~205 µs, Postgres ~0.84 → ~0.67 ms.
 */
export function rowsJson(rows: readonly object[], columns: readonly JsonColumn[]): string {
  const keys = columns.map((c) => (typeof c === "string" ? c : c[0]));
  return JSON.stringify(rows.map((r) => keys.map((k) => (r as Record<string, unknown>)[k] ?? null)));
}

const sqliteFields = (n: number) => `SELECT ${Array.from({ length: n }, (_, i) => `j.value ->> ${i}`).join(", ")}`;

/** `jsonRows` on SQLite as text, for statements kept prepared (`fast-writer.ts`): its one `?` is `rowsJson`'s. */
export const sqliteJsonRows = (n: number) => `${sqliteFields(n)} FROM jsonb_each(?) j WHERE true ORDER BY j.key`;

export interface StoreOptions {
  /** postgres://… selects Postgres; otherwise SQLite in `dataDir`. */
  databaseUrl?: string;
  /** Postgres schema to use (created if missing); lets tests and tenants share one database. */
  schema?: string;
  dataDir: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens the store, unmigrated: the composition root applies the features' migrations (`migrate.ts`). */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const url = opts.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const schema = opts.schema;
    if (schema !== undefined) {
      if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
      const admin = new SQL(url);
      try {
        await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } catch (err) {
        // IF NOT EXISTS is not atomic: another node creating it at the same moment gets here; it exists now
        if ((err as { errno?: string }).errno !== "23505") throw err;
      } finally {
        await admin.close();
      }
    }
    const path: Record<string, string> = schema ? { search_path: schema } : {};
    const sql = new SQL({ url, max: 10, connection: path });
    const planned = new SQL({ url, max: 4, prepare: false, connection: path });
    // The writer runs one transaction at a time: one connection of its own, on which sequential scans are
    // off. Every statement of the hot writes finds its rows by a key, and Postgres caches a prepared
    // statement's plan per connection: a plan made while a table was small (where a scan is cheapest)
    // stayed a scan once the table held 100,000 rows, until the next ANALYZE (a broadcast's receipts:
    // 56 ms instead of ~3). Set when it connects, not per transaction: no extra round trip per commit.
    const writes = new SQL({ url, max: 1, connection: { ...path, enable_seqscan: "off" } });
    const store: Store = {
      sql,
      dialect: "postgres",
      writer: new Writer((body) => writes.begin((tx) => body(tx))),
      planned,
      close: async () => {
        await Promise.all([sql.close(), planned.close(), writes.close()]);
      },
    };
    return store;
  }
  ensurePrivateDir(opts.dataDir);
  const file = join(opts.dataDir, "claudemesh.sqlite");
  const sql = new SQL({ adapter: "sqlite", filename: file, create: true, readwrite: true });
  // WAL: readers never block the writer; FULL sync: a commit survives kill -9 and power loss before it
  // returns. The writer's own transactions sync the WAL off the event loop instead (`wal-sync.ts`).
  await sql.unsafe("PRAGMA journal_mode = WAL");
  await sql.unsafe("PRAGMA synchronous = FULL");
  await sql.unsafe("PRAGMA foreign_keys = ON");
  await sql.unsafe("PRAGMA busy_timeout = 5000");
  const wal = new WalSync(sql, file);
  const fast = new FastWriter(file);
  const checkpoints = await Checkpointer.start(sql, file, { connections: [fast] });
  const store: Store = {
    sql,
    dialect: "sqlite",
    writer: new Writer(wal.transaction, { sync: wal.sync, fast: fast.transaction }),
    planned: sql,
    checkpoints,
    slowRead: (text, params) => checkpoints.read(text, params),
    prepared: (text, params) => fast.read(text, params),
    close: async () => {
      await checkpoints.stop();
      await wal.close();
      fast.close();
      await sql.close();
    },
  };
  // The database holds hashes, keys and ciphertext: owner-only, like every secret file. SQLite gives the
  // -wal and -shm files it creates later the main file's mode.
  for (const suffix of ["", "-wal", "-shm"]) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
  return store;
}

/** bigint columns come back as strings from Postgres and numbers from SQLite. */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
