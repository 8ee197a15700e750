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

// Quotas count what a sender keeps on the broker's disk: messages whose ciphertext is still stored.
// `message_usage` holds one row per sender member and one per mesh (member_id ''), changed in the same
// transaction as the message, so the counts stay exact across restarts and concurrent sends.
const len = (column: string) => `COALESCE(length(${column}), 0)`;
const USAGE = `
  ALTER TABLE message ADD COLUMN bytes bigint NOT NULL DEFAULT 0;
  ALTER TABLE message ADD COLUMN expires_at bigint;
  ALTER TABLE message ADD COLUMN purged_at bigint;
  UPDATE message SET
    bytes = ${len("ciphertext")} + COALESCE((SELECT sum(${len("r.ciphertext")}) FROM message_recipient r WHERE r.message_id = message.id), 0),
    expires_at = COALESCE((SELECT max(r.expires_at) FROM message_recipient r WHERE r.message_id = message.id), created_at);
  CREATE INDEX message_purge_idx ON message (purged_at, expires_at);
  CREATE TABLE message_usage (
    mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
    member_id text NOT NULL,
    messages bigint NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (mesh_id, member_id)
  );
  INSERT INTO message_usage (mesh_id, member_id, messages, bytes)
    SELECT mesh_id, sender_member_id, count(*), sum(bytes) FROM message GROUP BY mesh_id, sender_member_id;
  INSERT INTO message_usage (mesh_id, member_id, messages, bytes)
    SELECT mesh_id, '', count(*), sum(bytes) FROM message GROUP BY mesh_id;
`;

export const messageQuotaMigration: Migration = {
  // 5 and 6 are taken by other features' steps landing at the same time; versions only need to be unique and ordered.
  version: 7,
  name: "message quotas and ciphertext purge",
  sqlite: USAGE,
  postgres: USAGE,
};

// A session's queue is read on every push. Without statistics SQLite preferred the expiry index
// (status, expires_at), a scan of every queued row of every mesh: a broadcast became quadratic and any
// backlog slowed every push. Recipient first, with the expiry as the range, wins on every planner.
const INBOX = `
  DROP INDEX message_recipient_queue_idx;
  CREATE INDEX message_recipient_inbox_idx ON message_recipient (session_pubkey, status, expires_at);
`;

export const inboxIndexMigration: Migration = {
  // 13, the number of the issue that added it: 8-12 stay free for features landing in parallel (versions need only be unique and ordered).
  version: 13,
  name: "recipient-first queue index",
  sqlite: INBOX,
  postgres: INBOX,
};

// Only queued rows are ever looked up by recipient or by expiry, and a broadcast's receipts move ~1,000
// rows out of `queued` at once: with `status` inside the key every receipt moved each row's entry to
// another place in both indexes (a delete and an insert, on a random page). Partial indexes hold the
// queued rows alone, so a receipt only deletes, and they stay the size of the backlog rather than of
// the history (a 1,000-row broadcast into 200,000 rows: insert 48 → 28 ms, receipts 38 → 17 ms).
const QUEUED = `
  DROP INDEX message_recipient_inbox_idx;
  DROP INDEX message_recipient_expiry_idx;
  CREATE INDEX message_recipient_queued_idx ON message_recipient (session_pubkey, expires_at) WHERE status = 'queued';
  CREATE INDEX message_recipient_expiring_idx ON message_recipient (expires_at) WHERE status = 'queued';
`;

export const queuedIndexMigration: Migration = {
  version: 18,
  name: "queued-only delivery indexes",
  sqlite: QUEUED,
  postgres: QUEUED,
};

// Postgres only: the expiring index misled the queue reads. Analyzed while few rows were queued (before
// autovacuum's next ANALYZE after a burst), a partial index looks empty to the planner, and a scan of the
// whole expiring index looked cheaper than a lookup per session in the queued one: a queue read then
// walked every queued row of every mesh (~100–300 ms with 100,000 queued; connects to 10,000 sessions fell
// from ~2,000 to 620–890/s in the scale bench). Without it, a session's queue has one index to be read by.
// What it served costs a walk of the queued index instead, off the event loop on Postgres: the minutely
// expiry sweep and a scrape's queue depth (a count of every queued row either way). SQLite keeps it: with
// the same statistics its planner reads by session (test/messaging/queue-read-plan.test.ts).
export const queueReadIndexMigration: Migration = {
  version: 19,
  name: "queue reads by session alone (Postgres)",
  sqlite: "SELECT 1",
  postgres: "DROP INDEX message_recipient_expiring_idx",
};
