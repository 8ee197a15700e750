import type { Store } from "../store/db.ts";
import { num } from "../store/db.ts";
import { newId } from "../util/ids.ts";
import type { JsonValue, StateEntry } from "./frames.ts";

type Row = Record<string, unknown>;

// Postgres hands jsonb back as text (`value::text`) and SQLite stores text, so both parse the same way.
const toEntry = (r: Row): StateEntry => ({
  key: String(r.key),
  value: JSON.parse(String(r.value)) as JsonValue,
  updatedBy: String(r.updated_by_name),
  updatedAt: num(r.updated_at),
});

/** A state entry and its write counter (the database's order of writes to the key). */
export interface Versioned {
  entry: StateEntry;
  version: number;
}
const toVersioned = (r: Row): Versioned => ({ entry: toEntry(r), version: num(r.version) });

/** Code-unit order in JS, so both backends list keys alike whatever the database collation. */
const byKey = (a: StateEntry, b: StateEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Shared key-value state. Every query is scoped by mesh id: nothing here can reach another mesh's rows. */
export class StateRepo {
  constructor(private readonly store: Store) {}

  /** Upserts and returns the row as stored (Postgres normalizes jsonb, e.g. object key order). */
  async set(input: { meshId: string; key: string; json: string; presenceId: string; name: string; now: number }): Promise<Versioned> {
    const { meshId, key, json, presenceId, name, now } = input;
    const id = newId("st");
    const sql = this.store.sql;
    const rows: Row[] =
      this.store.dialect === "postgres"
        ? await sql`
          INSERT INTO state (id, mesh_id, key, value, updated_by_presence, updated_by_name, updated_at, version)
          VALUES (${id}, ${meshId}, ${key}, ${json}::text::jsonb, ${presenceId}, ${name}, ${now}, 1)
          ON CONFLICT (mesh_id, key) DO UPDATE SET value = excluded.value,
            updated_by_presence = excluded.updated_by_presence, updated_by_name = excluded.updated_by_name,
            updated_at = excluded.updated_at, version = state.version + 1
          RETURNING key, value::text AS value, updated_by_name, updated_at, version`
        : await sql`
          INSERT INTO state (id, mesh_id, key, value, updated_by_presence, updated_by_name, updated_at, version)
          VALUES (${id}, ${meshId}, ${key}, ${json}, ${presenceId}, ${name}, ${now}, 1)
          ON CONFLICT (mesh_id, key) DO UPDATE SET value = excluded.value,
            updated_by_presence = excluded.updated_by_presence, updated_by_name = excluded.updated_by_name,
            updated_at = excluded.updated_at, version = state.version + 1
          RETURNING key, value, updated_by_name, updated_at, version`;
    const [row] = rows;
    if (!row) throw new Error("state upsert returned no row");
    return toVersioned(row);
  }

  async get(meshId: string, key: string): Promise<StateEntry | null> {
    return (await this.current(meshId, key))?.entry ?? null;
  }

  async current(meshId: string, key: string): Promise<Versioned | null> {
    const sql = this.store.sql;
    const [row]: Row[] =
      this.store.dialect === "postgres"
        ? await sql`SELECT key, value::text AS value, updated_by_name, updated_at, version FROM state WHERE mesh_id = ${meshId} AND key = ${key}`
        : await sql`SELECT key, value, updated_by_name, updated_at, version FROM state WHERE mesh_id = ${meshId} AND key = ${key}`;
    return row ? toVersioned(row) : null;
  }

  async list(meshId: string): Promise<StateEntry[]> {
    const sql = this.store.sql;
    const rows: Row[] =
      this.store.dialect === "postgres"
        ? await sql`SELECT key, value::text AS value, updated_by_name, updated_at FROM state WHERE mesh_id = ${meshId}`
        : await sql`SELECT key, value, updated_by_name, updated_at FROM state WHERE mesh_id = ${meshId}`;
    return rows.map(toEntry).sort(byKey);
  }
}
