import type { Cluster } from "../broker/host.ts";
import { jsonRows, type Store } from "../store/db.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";

type Listener = (payload: unknown, from: string) => void;
type Row = Record<string, unknown>;
interface Outgoing {
  node_id: string;
  from_node: string;
  topic: string;
  payload: string;
  created_at: number;
}

/** At most this many events per drain query; a longer backlog takes several. */
const DRAIN_BATCH = 1000;

/** A node's LISTEN channel: a Postgres identifier (≤ 63 bytes) whatever characters the node id has. */
export function nodeChannel(nodeId: string): string {
  return `claudemesh_node_${new Bun.CryptoHasher("sha256").update(nodeId).digest("hex").slice(0, 24)}`;
}

/**
 * Events between broker nodes through Postgres, as DESIGN.md "Scale-out" says: an event is a `node_event`
 * row for its target, written in one transaction with a `NOTIFY` on the target's own channel (so a wake-up
 * reaches one node, not all); the target deletes and handles its rows in id order. Payloads live in the
 * table, never in the NOTIFY (8,000 bytes at most), and a node that missed a NOTIFY (a dropped LISTEN
 * connection, a restart) finds its rows on the next drain: on every LISTEN (re)connect and every
 * `pollMs`. One sender's events reach a target in the order it sent them: its flushes run one at a time.
 * On SQLite (always one node) every send goes nowhere.
 */
export class NodeLink implements Cluster {
  private readonly listeners = new Map<string, Set<Listener>>();
  /** the other live nodes: publish's targets */
  private readonly others = new Set<string>();
  private outbox: Outgoing[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private draining = false;
  private drainAgain = false;
  private subscription: { unlisten(): Promise<void> } | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    readonly nodeId: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  private get linked(): boolean {
    return this.store.dialect === "postgres" && !this.stopped;
  }

  async start(): Promise<void> {
    if (this.store.dialect !== "postgres") return;
    // Events addressed to an earlier run of this node were for sessions that ended with it.
    await this.store.sql`DELETE FROM node_event WHERE node_id = ${this.nodeId}`;
    const drain = () => void this.drain();
    this.subscription = await this.store.sql.listen(nodeChannel(this.nodeId), drain, drain);
    this.timer = setInterval(drain, this.pollMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // what the last sessions' goodbyes queued goes out before the store closes
    this.flushing = this.flushing.then(() => this.flush());
    await this.flushing;
    this.stopped = true;
    await this.subscription?.unlisten().catch(() => {});
    this.subscription = null;
  }

  /** The live nodes as the last heartbeat saw them (this one excluded by the caller or here). */
  setLive(nodeIds: Iterable<string>): void {
    this.others.clear();
    for (const id of nodeIds) if (id !== this.nodeId) this.others.add(id);
  }

  /** A dead node: nothing more is sent to it, and what waits for it is dropped. */
  async forget(nodeId: string): Promise<void> {
    this.others.delete(nodeId);
    if (this.store.dialect === "postgres") await this.store.sql`DELETE FROM node_event WHERE node_id = ${nodeId}`;
  }

  send(nodeId: string, topic: string, payload: unknown): void {
    if (!this.linked || nodeId === this.nodeId) return;
    this.queue(nodeId, topic, JSON.stringify(payload));
  }

  publish(topic: string, payload: unknown): void {
    if (!this.linked || this.others.size === 0) return;
    const text = JSON.stringify(payload);
    for (const node of this.others) this.queue(node, topic, text);
  }

  otherNodes(): string[] {
    return this.linked ? [...this.others] : [];
  }

  subscribe(topic: string, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  private queue(nodeId: string, topic: string, payload: string): void {
    this.outbox.push({ node_id: nodeId, from_node: this.nodeId, topic, payload, created_at: this.clock.now() });
    if (this.scheduled) return;
    this.scheduled = true;
    // After this turn: the events of one burst (a broadcast's forwarded frames) share one transaction.
    setImmediate(() => {
      this.flushing = this.flushing.then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.outbox;
    this.outbox = [];
    this.scheduled = false;
    if (batch.length === 0) return;
    const targets = [...new Set(batch.map((e) => e.node_id))];
    try {
      await this.store.sql.begin(async (tx) => {
        // one JSON parameter (`jsonRows`): its rows take their ids in the order they were queued
        for (let i = 0; i < batch.length; i += 500) {
          await tx`INSERT INTO node_event (node_id, from_node, topic, payload, created_at)
            ${jsonRows(tx, "postgres", batch.slice(i, i + 500), ["node_id", "from_node", "topic", "payload", ["created_at", "bigint"]])}`;
        }
        // delivered on commit: the target never wakes before its rows are visible
        for (const node of targets) await tx`SELECT pg_notify(${nodeChannel(node)}, '')`;
      });
    } catch (err) {
      // What this node forwards is ephemeral (pushes of state, presence, wake-ups); messages themselves are
      // in the queue, and a recipient's node also drains it when the session reconnects or changes status.
      this.log.warn("could not send events to other broker nodes", { events: batch.length, err: String(err) });
    }
  }

  /** Handles every event waiting for this node, oldest first; one drain at a time. */
  private async drain(): Promise<void> {
    if (!this.linked) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        const rows: Row[] = await this.store.sql`
          DELETE FROM node_event WHERE id IN (
            SELECT id FROM node_event WHERE node_id = ${this.nodeId} ORDER BY id LIMIT ${DRAIN_BATCH})
          RETURNING id, from_node, topic, payload`;
        rows.sort((a, b) => Number(a.id) - Number(b.id));
        for (const r of rows) this.dispatch(String(r.from_node), String(r.topic), String(r.payload));
        if (rows.length === DRAIN_BATCH) this.drainAgain = true;
      } while (this.drainAgain && this.linked);
    } catch (err) {
      if (this.linked) this.log.warn("could not read events from other broker nodes; retrying", { err: String(err) });
    } finally {
      this.draining = false;
    }
  }

  private dispatch(from: string, topic: string, text: string): void {
    // a node heard from is live, even before this node's next heartbeat lists it
    this.others.add(from);
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      this.log.warn("dropped an unreadable event from another broker node", { node: from, topic });
      return;
    }
    for (const l of [...(this.listeners.get(topic) ?? [])]) {
      try {
        l(payload, from);
      } catch (err) {
        this.log.error("a listener of another node's event failed", { topic, err: err instanceof Error ? err.stack : String(err) });
      }
    }
  }
}
