import { z } from "zod";
import { ConfigError } from "./errors.ts";

/**
 * The environment variables claudemesh reads, checked once at the edge. Two kinds of module read
 * `process.env` themselves instead: what `claudemesh hook` loads (util/home.ts, mcp/hook-client.ts, and
 * cli/usage.ts for NO_COLOR and TERM, which the CLI entry loads before any command), which must not load
 * zod, and functions that take an injectable `env` (defaulting to `process.env`) so tests can pass their
 * own, or hand it on to a child process.
 */
const EnvSchema = z.object({
  /** Broker: a postgres:// URL selects Postgres; unset or empty, SQLite in the data dir. */
  DATABASE_URL: z.string().optional(),
  /** Broker: the data dir (SQLite, admin token, default invite); `--data-dir` wins. */
  CLAUDEMESH_BROKER_DATA_DIR: z.string().optional(),
  /** Broker: the Postgres schema (created if missing). */
  CLAUDEMESH_DB_SCHEMA: z
    .string()
    .regex(/^([a-z_][a-z0-9_]{0,62})?$/, "a lowercase SQL identifier")
    .optional(),
  /** `mesh create`: the broker's admin token; `--admin-token` wins. */
  CLAUDEMESH_ADMIN_TOKEN: z.string().optional(),
  /** Clients: the PEM CA file that vouches for brokers with a private certificate (`join --ca` wins). */
  CLAUDEMESH_CA: z.string().optional(),
  /** File commands: the mesh when several are joined (`--mesh` wins); `mcp` reads it through mcp/identity.ts. */
  CLAUDEMESH_MESH: z.string().optional(),
});
export type Env = z.infer<typeof EnvSchema>;

export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`environment variable ${String(issue?.path[0])} is invalid: ${issue?.message}`);
  }
  return parsed.data;
}
