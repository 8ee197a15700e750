import type { Migration } from "../store/migration.ts";

// One row per (mesh, key): writes upsert, last write wins. Timestamps are epoch ms, as everywhere.
const table = (valueType: string) => `
  CREATE TABLE state (
    id text PRIMARY KEY,
    mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
    key text NOT NULL,
    value ${valueType} NOT NULL,
    updated_by_presence text,
    updated_by_name text NOT NULL,
    updated_at bigint NOT NULL,
    UNIQUE (mesh_id, key)
  );
`;

export const stateMigration: Migration = {
  version: 3,
  name: "shared state",
  // SQLite keeps the JSON text as written
  sqlite: table("text"),
  postgres: table("jsonb"),
};

// A write counter per key: the database orders writes to one key (row lock), so the highest version is the
// value it holds. Broker nodes push a change to their sessions only when it is newer than the last they
// pushed, so concurrent writers on different nodes converge everywhere on the stored value.
const VERSION = "ALTER TABLE state ADD COLUMN version bigint NOT NULL DEFAULT 0;";
export const stateVersionMigration: Migration = { version: 17, name: "state write versions", sqlite: VERSION, postgres: VERSION };
