import type { Migration } from "../store/migration.ts";
import { ASCII_PUNCTUATION } from "./query.ts";

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

// See query.ts: punctuation becomes spaces so Postgres splits words where SQLite's unicode61 does.
const searchText = `translate(content, ${sqlString(ASCII_PUNCTUATION)}, ${sqlString(" ".repeat(ASCII_PUNCTUATION.length))})`;

const postgres = `
  CREATE TABLE memory (
    id text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
    content text NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    search_vector tsvector GENERATED ALWAYS AS (to_tsvector('english', ${searchText})) STORED,
    remembered_by text REFERENCES member(id) ON DELETE SET NULL,
    remembered_by_name text NOT NULL,
    remembered_at bigint NOT NULL,
    forgotten_at bigint
  );
  CREATE INDEX memory_search_idx ON memory USING gin (search_vector);
  CREATE INDEX memory_mesh_idx ON memory (mesh_id, remembered_at, seq);
`;

// seq orders memories remembered in the same millisecond, on both dialects. Here it is also the rowid the
// FTS index points at: an explicit INTEGER PRIMARY KEY, because VACUUM may renumber implicit rowids and
// silently detach an external-content index. Forgotten rows leave the index at once.
const sqlite = `
  CREATE TABLE memory (
    seq integer PRIMARY KEY,
    id text NOT NULL UNIQUE,
    mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
    content text NOT NULL,
    tags text NOT NULL DEFAULT '[]',
    remembered_by text REFERENCES member(id) ON DELETE SET NULL,
    remembered_by_name text NOT NULL,
    remembered_at bigint NOT NULL,
    forgotten_at bigint
  );
  CREATE INDEX memory_mesh_idx ON memory (mesh_id, remembered_at, seq);
  CREATE VIRTUAL TABLE memory_fts USING fts5(
    content, content='memory', content_rowid='seq', tokenize='porter unicode61 remove_diacritics 0'
  );
  CREATE TRIGGER memory_fts_insert AFTER INSERT ON memory WHEN new.forgotten_at IS NULL BEGIN
    INSERT INTO memory_fts (rowid, content) VALUES (new.seq, new.content);
  END;
  CREATE TRIGGER memory_fts_forget AFTER UPDATE OF forgotten_at ON memory
  WHEN old.forgotten_at IS NULL AND new.forgotten_at IS NOT NULL BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, content) VALUES ('delete', old.seq, old.content);
  END;
  CREATE TRIGGER memory_fts_delete AFTER DELETE ON memory WHEN old.forgotten_at IS NULL BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, content) VALUES ('delete', old.seq, old.content);
  END;
`;

export const memoryMigration: Migration = { version: 4, name: "memory with full-text search", sqlite, postgres };
