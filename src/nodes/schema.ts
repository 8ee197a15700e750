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
