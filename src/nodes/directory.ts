import { hostname } from "node:os";
import type { Store } from "../store/db.ts";
import type { Clock } from "../util/clock.ts";
import { InvalidArgument } from "../util/errors.ts";
import { pidAlive } from "../util/pid.ts";
import type { NodeInfo } from "./api.ts";

/** This process as a node: its id, and the public URL clients reach it at (known once it listens). */
export interface NodeSelf {
  id: string;
  url: string;
}

export interface NodeTiming {
  /** how often a node writes its heartbeat */
  heartbeatMs: number;
  /** a node whose heartbeat is older than this is dead (heartbeat + detection stay under 10 s) */
  deadAfterMs: number;
}

export const DEFAULT_NODE_TIMING: NodeTiming = { heartbeatMs: 2000, deadAfterMs: 6000 };

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v ?? 0);

/**
 * The broker nodes of one store, kept in `broker_node`: each node registers itself, beats, and declares
 * nodes whose heartbeat stopped dead. On SQLite there is only ever one live node: a second broker on the
 * same database file is refused at start.
 */
export class NodeDirectory {
  private readonly host = hostname();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly self: NodeSelf,
    readonly timing: NodeTiming,
    private readonly sessions: () => number,
  ) {}

  /** Registers this node; refuses when a live process already is this node (or, on SQLite, any node). */
  async claim(): Promise<void> {
    const now = this.clock.now();
    const live: Row[] = await this.store.sql`
      SELECT * FROM broker_node WHERE stopped_at IS NULL AND heartbeat_at >= ${now - this.timing.deadAfterMs}`;
    for (const r of live) {
      const sameId = r.id === this.self.id;
      if (!sameId && this.store.dialect !== "sqlite") continue;
      // a crashed process of this machine, or this very process starting again: not running
      if (r.host === this.host && (num(r.pid) === process.pid || !pidAlive(num(r.pid)))) continue;
      const seen = `pid ${r.pid} on ${r.host}, heartbeat ${((now - num(r.heartbeat_at)) / 1000).toFixed(1)} s ago`;
      throw new InvalidArgument(
        this.store.dialect === "sqlite"
          ? `another broker is running on this SQLite database (node ${r.id}, ${seen}): one SQLite file serves one broker; stop it first, or run several brokers on Postgres (DATABASE_URL)`
          : `another broker is already running as node ${r.id} (${seen}): give this one its own --node-id or --data-dir`,
      );
    }
    const s = this.self;
    await this.store.sql`
      INSERT INTO broker_node (id, url, host, pid, started_at, heartbeat_at, sessions, stopped_at)
      VALUES (${s.id}, ${s.url}, ${this.host}, ${process.pid}, ${now}, ${now}, 0, NULL)
      ON CONFLICT (id) DO UPDATE SET url = ${s.url}, host = ${this.host}, pid = ${process.pid}, started_at = ${now},
        heartbeat_at = ${now}, sessions = 0, stopped_at = NULL`;
  }

  /**
   * Writes this node's heartbeat and declares nodes whose heartbeat stopped dead; resolves with the ids
   * this call declared (another survivor may have declared some first: each is declared once), and
   * whether this node itself had been declared dead (it was stalled past the limit).
   */
  async beat(): Promise<{ dead: string[]; wasDeclaredDead: boolean }> {
    const now = this.clock.now();
    const s = this.self;
    const [mine]: Row[] = await this.store.sql`SELECT stopped_at FROM broker_node WHERE id = ${s.id}`;
    const wasDeclaredDead = mine !== undefined && mine.stopped_at !== null && mine.stopped_at !== undefined;
    await this.store.sql`
      UPDATE broker_node SET heartbeat_at = ${now}, url = ${s.url}, sessions = ${this.sessions()}, stopped_at = NULL WHERE id = ${s.id}`;
    const dead: Row[] = await this.store.sql`
      UPDATE broker_node SET stopped_at = ${now}
      WHERE stopped_at IS NULL AND heartbeat_at < ${now - this.timing.deadAfterMs} AND id <> ${s.id} RETURNING id`;
    return { dead: dead.map((r) => String(r.id)), wasDeclaredDead };
  }

  /** Every node this store has seen, live ones first. */
  async list(): Promise<NodeInfo[]> {
    const now = this.clock.now();
    const rows: Row[] = await this.store.sql`SELECT * FROM broker_node ORDER BY stopped_at IS NOT NULL, started_at, id`;
    return rows.map((r) => {
      const stoppedAt = r.stopped_at === null || r.stopped_at === undefined ? null : num(r.stopped_at);
      return {
        id: String(r.id),
        url: String(r.url),
        startedAt: num(r.started_at),
        heartbeatAt: num(r.heartbeat_at),
        stoppedAt,
        alive: stoppedAt === null && num(r.heartbeat_at) >= now - this.timing.deadAfterMs,
        sessions: num(r.sessions),
        self: r.id === this.self.id,
      };
    });
  }

  /** A clean stop: this node is gone at once, not after the dead-node delay. */
  async release(): Promise<void> {
    await this.store.sql`UPDATE broker_node SET stopped_at = ${this.clock.now()}, sessions = 0 WHERE id = ${this.self.id}`;
  }
}
