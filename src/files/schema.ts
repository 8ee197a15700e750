import type { Migration } from "../store/migration.ts";

// The spec's `file` and `file_access` rows; timestamps are epoch ms and tags JSON text, as everywhere.
// `file_reader` is ours: who may read an attachment (the members of the message's resolved recipients).
const tables = (bool: string) => `
  CREATE TABLE file (
    id text PRIMARY KEY,
    mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
    name text NOT NULL,
    size_bytes bigint NOT NULL,
    mime_type text,
    minio_key text NOT NULL,
    tags text NOT NULL DEFAULT '[]',
    persistent ${bool} NOT NULL,
    uploaded_by_name text,
    uploaded_by_member text REFERENCES member(id),
    target_spec text,
    uploaded_at bigint NOT NULL,
    expires_at bigint,
    deleted_at bigint
  );
  CREATE INDEX file_by_mesh ON file (mesh_id, uploaded_at);
  CREATE INDEX file_by_expiry ON file (expires_at);
  CREATE TABLE file_reader (
    file_id text NOT NULL REFERENCES file(id) ON DELETE CASCADE,
    member_id text NOT NULL REFERENCES member(id) ON DELETE CASCADE,
    PRIMARY KEY (file_id, member_id)
  );
  CREATE TABLE file_access (
    id text PRIMARY KEY,
    file_id text NOT NULL REFERENCES file(id) ON DELETE CASCADE,
    peer_session_pubkey text,
    peer_name text,
    peer_member text,
    accessed_at bigint NOT NULL
  );
  CREATE INDEX file_access_by_file ON file_access (file_id, accessed_at);
`;

export const filesMigration: Migration = { version: 6, name: "files and attachments", sqlite: tables("integer"), postgres: tables("boolean") };
