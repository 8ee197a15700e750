import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { openStore, type Store } from "../../src/store/db.ts";

export type Backend = "sqlite" | "postgres";

export const PG_URL = process.env.CLAUDEMESH_TEST_DATABASE_URL;

let announced = false;
/** The backends a suite runs against: SQLite always, Postgres when CLAUDEMESH_TEST_DATABASE_URL is set. */
export function backends(): Backend[] {
  if (!PG_URL && !announced) {
    announced = true;
    console.log("[claudemesh tests] CLAUDEMESH_TEST_DATABASE_URL is unset: Postgres suites are SKIPPED");
  }
  return PG_URL ? ["sqlite", "postgres"] : ["sqlite"];
}

/** A fresh temp dir; `using` (or a suiteFixture's stack) removes it. */
export function tempDir(prefix = "cm-test-"): { path: string; cleanup(): void } & Disposable {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = () => rmSync(path, { recursive: true, force: true });
  return { path, cleanup, [Symbol.dispose]: cleanup };
}

/** A fresh Postgres schema per broker, so suites never see each other's rows. */
export function freshSchema(): string {
  return `cm_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export async function dropSchema(schema: string): Promise<void> {
  if (!PG_URL) return;
  const sql = new SQL(PG_URL);
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.close();
}

/** Marks that a Postgres-backed test really ran; .ci/run checks for this file. */
export function markPostgresRan(suite: string): void {
  const marker = process.env.CLAUDEMESH_PG_MARKER;
  if (marker) require("node:fs").appendFileSync(marker, suite + "\n");
}

/**
 * Runs `body` on a fresh, unmigrated store of `backend` (a temp dir; on Postgres a schema of its own,
 * marked as run under `suite`), and removes it after.
 */
export async function withStore<T>(backend: Backend, suite: string, body: (store: Store, schema: string | undefined) => Promise<T>): Promise<T> {
  const dir = tempDir("cm-store-");
  const schema = backend === "postgres" ? freshSchema() : undefined;
  if (backend === "postgres") markPostgresRan(suite);
  const store = await openStore({ dataDir: dir.path, databaseUrl: backend === "postgres" ? PG_URL : undefined, schema });
  try {
    return await body(store, schema);
  } finally {
    await store.close();
    if (schema) await dropSchema(schema);
    dir.cleanup();
  }
}
