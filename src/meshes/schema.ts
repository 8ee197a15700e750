import type { Migration } from "../store/migration.ts";

// Timestamps are epoch milliseconds in bigint columns on both dialects, so rows compare the same everywhere.
const DDL = `
    CREATE TABLE mesh (
      id text PRIMARY KEY,
      slug text NOT NULL UNIQUE,
      owner_pubkey text NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE TABLE member (
      id text PRIMARY KEY,
      mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
      pubkey text NOT NULL,
      display_name text NOT NULL,
      role text NOT NULL,
      invite_id text,
      joined_at bigint NOT NULL,
      revoked_at bigint,
      UNIQUE (mesh_id, pubkey)
    );
    CREATE TABLE invite (
      id text PRIMARY KEY,
      mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      role text NOT NULL,
      max_uses integer,
      uses integer NOT NULL DEFAULT 0,
      expires_at bigint,
      revoked_at bigint,
      created_by text,
      created_at bigint NOT NULL
    );
    CREATE TABLE presence (
      id text PRIMARY KEY,
      mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
      member_id text NOT NULL REFERENCES member(id) ON DELETE CASCADE,
      session_pubkey text NOT NULL,
      display_name text NOT NULL,
      connected_at bigint NOT NULL,
      disconnected_at bigint
    );
    CREATE INDEX presence_mesh_idx ON presence (mesh_id, disconnected_at);
`;

export const meshesMigration: Migration = {
  version: 1,
  name: "meshes, members, invites, presence",
  sqlite: DDL,
  postgres: DDL,
};

// A signed request's nonce, remembered until its timestamp leaves the skew window; the primary key makes a
// second use fail even when two brokers of one Postgres see the copies at the same moment.
const NONCES = `
    CREATE TABLE request_nonce (
      member_id text NOT NULL,
      nonce text NOT NULL,
      expires_at bigint NOT NULL,
      PRIMARY KEY (member_id, nonce)
    );
    CREATE INDEX request_nonce_expiry_idx ON request_nonce (expires_at);
`;

export const requestNonceMigration: Migration = { version: 5, name: "signed request nonces", sqlite: NONCES, postgres: NONCES };

// Which broker node holds each live session, so a node closes only its own rows at start and the survivors
// close a dead node's. Rows from before nodes existed have none: they belong to whichever node starts.
const PRESENCE_NODE = `
    ALTER TABLE presence ADD COLUMN node_id text;
    CREATE INDEX presence_node_idx ON presence (node_id, disconnected_at);
`;

// 14, the number of the issue that added it (versions need only be unique and ordered).
export const presenceNodeMigration: Migration = { version: 14, name: "presence rows carry their broker node", sqlite: PRESENCE_NODE, postgres: PRESENCE_NODE };

// Session keys a member delegated (the dashboard's browser sessions), kept in the store so a broker restart
// or another broker of the same Postgres honours them and their revocation alike.
const DELEGATIONS = `
    CREATE TABLE delegation (
      id text PRIMARY KEY,
      mesh_id text NOT NULL REFERENCES mesh(id) ON DELETE CASCADE,
      member_id text NOT NULL REFERENCES member(id) ON DELETE CASCADE,
      session_pubkey text NOT NULL,
      expires_at bigint NOT NULL,
      signature text NOT NULL,
      created_at bigint NOT NULL,
      revoked_at bigint,
      UNIQUE (member_id, session_pubkey)
    );
    CREATE INDEX delegation_member_idx ON delegation (mesh_id, member_id, revoked_at);
`;

// 12, the number of the issue that added it.
export const delegationMigration: Migration = { version: 12, name: "delegated session keys", sqlite: DELEGATIONS, postgres: DELEGATIONS };
