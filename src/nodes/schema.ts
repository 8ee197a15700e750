import type { Migration } from "../store/migration.ts";

// One row per broker process that ever ran on this store. `pid`/`host` tell a crashed process (its pid
// gone on this host) from a live one when a node with the same id starts again.
const DDL = `
  CREATE TABLE broker_node (
    id text PRIMARY KEY,
    url text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at bigint NOT NULL,
    heartbeat_at bigint NOT NULL,
    sessions integer NOT NULL DEFAULT 0,
    stopped_at bigint
  );
`;

// 15: issue #14's number was taken by the presence column of the meshes feature; versions need only be unique.
export const nodesMigration: Migration = { version: 15, name: "broker nodes", sqlite: DDL, postgres: DDL };

// Events between broker nodes: a row per event for its target node, which deletes what it consumes. The
// table, not the NOTIFY, carries the event (a NOTIFY only wakes the target), so a node that missed a
// wake-up (its LISTEN connection dropped) finds the rows on its next drain: a missed NOTIFY delays, never
// loses. `id` orders one sender's events; a row is written in the sender's transaction with its NOTIFY.
const EVENTS = (serial: string) => `
  CREATE TABLE node_event (
    id ${serial},
    node_id text NOT NULL,
    from_node text NOT NULL,
    topic text NOT NULL,
    payload text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX node_event_node_idx ON node_event (node_id, id);
`;

export const nodeEventsMigration: Migration = {
  version: 16,
  name: "events between broker nodes",
  sqlite: EVENTS("integer PRIMARY KEY AUTOINCREMENT"),
  postgres: EVENTS("bigserial PRIMARY KEY"),
};
