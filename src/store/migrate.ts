import type { SQL } from "bun";
import type { Dialect, Migration } from "./migration.ts";

/** Applies every migration newer than the recorded version, each in its own transaction. */
export async function migrate(store: { sql: SQL; dialect: Dialect }, migrations: readonly Migration[]): Promise<number[]> {
  const { sql } = store;
  await sql.unsafe("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)");
  const rows: { version: number }[] = await sql`SELECT version FROM schema_migrations`;
  const done = new Set(rows.map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    await sql.begin(async (tx) => {
      await tx.unsafe(store.dialect === "postgres" ? m.postgres : m.sqlite);
      await tx`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${Date.now()})`;
    });
    applied.push(m.version);
  }
  return applied;
}
