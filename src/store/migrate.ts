import type { SQL } from "bun";
import type { Dialect, Migration } from "./migration.ts";

const LEDGER = "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)";

/**
 * Applies every migration newer than the recorded version. On Postgres, several brokers may start at
 * once on one database: all pending migrations run in one transaction under an advisory lock for the
 * schema, and the ledger is read inside it, so exactly one node applies each. On SQLite (one broker per
 * file) each migration has its own transaction.
 */
export async function migrate(store: { sql: SQL; dialect: Dialect }, migrations: readonly Migration[]): Promise<number[]> {
  const { sql } = store;
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const applied: number[] = [];
  const pending = async (tx: SQL) => {
    const rows: { version: number }[] = await tx`SELECT version FROM schema_migrations`;
    const done = new Set(rows.map((r) => Number(r.version)));
    return ordered.filter((m) => !done.has(m.version));
  };
  const record = (tx: SQL, m: Migration) => tx`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${Date.now()})`;
  if (store.dialect === "postgres") {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext('claudemesh migrate ' || current_schema()))`;
      await tx.unsafe(LEDGER);
      for (const m of await pending(tx)) {
        await tx.unsafe(m.postgres);
        await record(tx, m);
        applied.push(m.version);
      }
    });
    return applied;
  }
  await sql.unsafe(LEDGER);
  for (const m of await pending(sql)) {
    await sql.begin(async (tx) => {
      await tx.unsafe(m.sqlite);
      await record(tx, m);
    });
    applied.push(m.version);
  }
  return applied;
}
