import type { Migration } from "../store/migration.ts";

// Message bodies are ciphertext only: a direct message has one envelope per recipient row, a group
// message one envelope on the message row. The broker never holds a key that opens either.
const tables = (seqColumn: string) => `
  CREATE TABLE message (
    id text PRIMARY KEY,
    mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
    sender_member_id text NOT NULL REFERENCES member(id) ON DELETE CASCADE,
    sender_session_pubkey text NOT NULL,
    sender_name text NOT NULL,
    client_id text NOT NULL,
    target_spec text NOT NULL,
    priority text NOT NULL,
    kind text NOT NULL,
    nonce text,
    ciphertext text,
    created_at bigint NOT NULL,
    UNIQUE (mesh_id, sender_member_id, client_id)
  );
  CREATE TABLE message_recipient (
    ${seqColumn},
    message_id text NOT NULL REFERENCES message(id) ON DELETE CASCADE,
    mesh_id text NOT NULL,
    session_pubkey text NOT NULL,
    member_id text NOT NULL,
    name text NOT NULL,
    nonce text,
    ciphertext text,
    status text NOT NULL,
    queued_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    delivered_at bigint,
    surfaced_at bigint,
    expired_at bigint,
    UNIQUE (message_id, session_pubkey)
  );
  CREATE INDEX message_recipient_queue_idx ON message_recipient (session_pubkey, status, seq);
  CREATE INDEX message_recipient_expiry_idx ON message_recipient (status, expires_at);
`;

export const messagingMigration: Migration = {
  version: 2,
  name: "messages and per-recipient delivery queue",
  sqlite: tables("seq integer PRIMARY KEY AUTOINCREMENT"),
  postgres: tables("seq bigserial PRIMARY KEY"),
};
