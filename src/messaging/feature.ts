import { z } from "zod";
import type { Feature, FeatureFactory, FeatureHost, HandlerContext, Routes } from "../broker/host.ts";
import { IDLE, type PeerState } from "../broker/peer.ts";
import { WireError } from "../protocol/wire-error.ts";
import type { ClientFrameOf, ServerFrameOf } from "../protocol/frames.ts";
import { newSortableId } from "../util/ids.ts";
import type { Priority, PushBody } from "./frames.ts";
import { timed } from "../broker/metrics.ts";
import { type InsertJob, MessageRepo, type NewRecipient, type Queue, type Quota } from "./repo.ts";
import { ReceiptBatcher } from "./receipts.ts";
import { usageRoutes } from "./http.ts";
import { MessageRetention } from "./retention.ts";
import { inboxIndexMigration, messageQuotaMigration, messagingMigration, queuedIndexMigration, queueReadIndexMigration } from "./schema.ts";
import { isGroupTarget, resolveTargets } from "./targets.ts";
import { fitCount } from "../util/size.ts";

/** The cluster topic that wakes a recipient's node: its sessions have new messages queued. */
const WAKE = "messaging.wake";
const Wake = z.object({ meshId: z.string(), sessions: z.array(z.string()), forwarded: z.boolean() });
/**
 * With other broker nodes, how often this node reads the queue of all its sessions anyway: a wake-up that
 * went to a node the session had just left (or was lost with a dead node) delays delivery by this, at most.
 */
const CATCH_UP_MS = 2_000;
/** at most how many acknowledged ids a connection remembers (`Delivery.acked`) while its steps run */
const ACKED_KEPT = 1_024;
/**
 * A fan-out pushes this many recipients per turn of the event loop: a broadcast to a thousand would
 * otherwise send every frame in the turn that committed it (~15-20 ms here), stalling every other session.
 */
const FANOUT_SLICE = 128;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** The most rows a paged drain reads, and so the most messages it hands out. */
const DRAIN_PAGE_ROWS = 1_000;

/** The oldest messages whose JSON fits in `maxChars` characters (at least one, so a big message still goes out); all without it. */
function pageOf(messages: PushBody[], maxChars: number | undefined): PushBody[] {
  if (maxChars === undefined) return messages;
  return messages.slice(
    0,
    Math.max(
      1,
      fitCount(messages, maxChars, (m) => JSON.stringify(m).length + 1),
    ),
  );
}

/** Which queued priorities a session may be pushed in its current status (DESIGN.md "Priority"). */
export function pushablePriorities(status: PeerState["status"]): Priority[] {
  return status === "idle" ? ["now", "next"] : ["now"];
}

/**
 * A session's delivery state. Its sets exist only while they hold something (null otherwise), and an idle
 * chain is the shared IDLE promise: ten thousand idle sessions cost an object each here.
 */
interface Delivery {
  /** pushed, awaiting the client's receipt: never pushed twice on one connection */
  inflight: Set<string> | null;
  /** deliveries to one session run one at a time, so order holds and nothing doubles */
  chain: Promise<void>;
  /** the steps enqueued on `chain` and not finished */
  steps: number;
  /** bumped by every status change: what a step knew was judged against the old status (a held `next` goes first) */
  statuses: number;
  /** bumped by every receipt: rows read ahead before one may list a message no longer in flight */
  receipts: number;
  /**
   * The ids acknowledged while a step was pending: that step may have read them as still queued (its read
   * began before their receipts committed), or push from memory a message a read already sent. A step that
   * begins once none is pending reads after those receipts committed, and a message's push from memory is
   * enqueued as its commit returns, before anyone could acknowledge it: so the set empties with the chain.
   */
  acked: Set<string> | null;
  /** whether `low` is known: a queue read said, and pushes and receipts have kept it since */
  lowKnown: boolean;
  /** the ids of the session's queued `low` messages (its `lowPending`), when known and not none */
  low: Set<string> | null;
  /** the expiry sweep `low` is as of: expiries since may have removed some */
  lowEpoch: number;
}

/**
 * What one delivery step already knows, so it need not read the queue: rows read ahead for many sessions
 * at once (a wake-up, a catch-up), or a message just stored and pushed from memory. `complete`: it is the
 * whole queue (a read); otherwise it is what was added since the last read (a message just stored).
 */
interface Known {
  queue: Queue;
  complete: boolean;
  /** the delivery's `statuses`, `receipts` and the expiry epoch when it was known */
  statuses: number;
  receipts: number;
  epoch: number;
}

class Messaging implements Feature {
  readonly name = "messaging";
  readonly migrations = [messagingMigration, messageQuotaMigration, inboxIndexMigration, queuedIndexMigration, queueReadIndexMigration];
  private readonly repo: MessageRepo;
  private readonly deliveries = new WeakMap<PeerState, Delivery>();
  private readonly pushTexts = new WeakMap<PushBody, Map<number, string>>();
  private readonly receipts: ReceiptBatcher;
  private readonly retention: MessageRetention;
  /** sessions connected in this burst, whose queues are read together (onPeerConnected) */
  private connecting: PeerState[] = [];
  private connectScheduled = false;
  /** counts the expiry sweeps that expired something: a session's known `low` ids are as of one of them */
  private expiries = 0;
  /** the latest fan-out of several turns still pushing (`route`), which receipts wait for */
  private fanout: Promise<void> | null = null;
  /** with other nodes live, this node's sessions' queues are read every CATCH_UP_MS anyway */
  private catchUp: ReturnType<typeof setInterval> | undefined;

  readonly routes: Routes;

  constructor(private readonly host: FeatureHost) {
    this.repo = new MessageRepo(host.store);
    this.retention = new MessageRetention(host.store);
    this.routes = usageRoutes(host, this.retention);
    const m = host.metrics;
    this.receipts = new ReceiptBatcher((batch) => this.repo.markDelivered(batch, this.host.clock.now()), { gate: () => this.fanout });
    m.gauge("claudemesh_queue_depth", async () => [{ value: await this.repo.queueDepth(this.host.clock.now()) }]);
    // Another node stored messages for sessions of this one: the queue is the truth, the wake-up only says when.
    host.cluster.subscribe(WAKE, (payload, from) => {
      const wake = Wake.parse(payload);
      const local: PeerState[] = [];
      const moved: PeerState[] = [];
      for (const key of wake.sessions) {
        const p = host.peers.session(key);
        if (p) local.push(p);
        else if (!wake.forwarded) {
          // The session moved on before the sender heard: pass the wake-up on, once.
          const there = host.peers.peersOf(wake.meshId).find((r) => r.sessionPubkey === key && r.nodeId !== undefined && r.nodeId !== from);
          if (there) moved.push(there);
        }
      }
      this.wakeRemote(moved, true);
      void this.deliverAll(local);
    });
  }

  start(): void {
    this.catchUp = setInterval(() => {
      if (this.host.cluster.otherNodes().length > 0) void this.deliverAll(this.host.peers.localSessions());
    }, CATCH_UP_MS);
    this.catchUp.unref?.();
  }

  stop(): void {
    clearInterval(this.catchUp);
  }

  /** Tells other nodes that sessions of theirs have messages queued: one wake-up per node and mesh. */
  private wakeRemote(peers: PeerState[], forwarded: boolean): void {
    const wakes = new Map<string, { node: string; meshId: string; sessions: string[] }>();
    for (const p of peers) {
      if (p.nodeId === undefined) continue;
      const slot = `${p.nodeId} ${p.meshId}`;
      let w = wakes.get(slot);
      if (!w) wakes.set(slot, (w = { node: p.nodeId, meshId: p.meshId, sessions: [] }));
      w.sessions.push(p.sessionPubkey);
    }
    for (const { node, meshId, sessions } of wakes.values()) this.host.cluster.send(node, WAKE, { meshId, sessions, forwarded });
  }

  /**
   * Pushes a message just stored to its recipients on this node, from memory (no queue read: the message
   * is the only news since each one's last read); recipients on other nodes get a wake-up at their node.
   */
  private route(recipients: PeerState[], body: (p: PeerState) => PushBody): Promise<void> {
    this.wakeRemote(
      recipients.filter((p) => p.nodeId !== undefined),
      false,
    );
    const epoch = this.expiries;
    const steps: Promise<void>[] = [];
    // Every step joins its session's chain now, so nothing sent later overtakes it; the later slices'
    // steps wait for a turn of their own before they push.
    let turn: Promise<void> | undefined;
    for (const p of recipients) {
      if (p.nodeId !== undefined) continue;
      if (steps.length > 0 && steps.length % FANOUT_SLICE === 0) turn = (turn ?? Promise.resolve()).then(nextTurn);
      const m = body(p);
      const queue: Queue = m.priority === "low" ? { messages: [], low: [m.messageId] } : { messages: [m], low: [] };
      const d = this.delivery(p);
      steps.push(this.enqueue(p, { queue, complete: false, statuses: d.statuses, receipts: d.receipts, epoch }, turn));
    }
    const all = Promise.all(steps).then(() => {});
    if (turn) {
      // a fan-out of several turns: receipts wait for its last push (ReceiptBatcher)
      const current = all.finally(() => {
        if (this.fanout === current) this.fanout = null;
      });
      this.fanout = current;
    }
    return all;
  }

  private delivery(peer: PeerState): Delivery {
    let d = this.deliveries.get(peer);
    if (!d)
      this.deliveries.set(
        peer,
        (d = { inflight: null, chain: IDLE, steps: 0, statuses: 0, receipts: 0, acked: null, lowKnown: false, low: null, lowEpoch: 0 }),
      );
    return d;
  }

  /** Runs `fn` on the session's chain, after every step before it. */
  private step(d: Delivery, fn: () => Promise<void>): Promise<void> {
    d.steps++;
    const next: Promise<void> = d.chain.then(fn).finally(() => {
      if (--d.steps > 0) return;
      d.acked = null;
      if (d.chain === next) d.chain = IDLE;
    });
    d.chain = next;
    return next;
  }

  /** Pushes every queued message this session may receive in its current status, in queue order. */
  deliver(peer: PeerState): Promise<void> {
    return this.enqueue(peer, null);
  }

  /**
   * `deliver` for many sessions at once (a wake-up from another node, a catch-up): their queues are read in
   * one statement per 500 sessions instead of one each.
   */
  private deliverAll(peers: PeerState[]): Promise<void> {
    if (peers.length <= 1) return Promise.all(peers.map((p) => this.deliver(p))).then(() => {});
    const seen = new Map(
      peers.map((p) => {
        const d = this.delivery(p);
        return [p, { statuses: d.statuses, receipts: d.receipts }];
      }),
    );
    const epoch = this.expiries;
    const read = this.readQueues(
      peers.map((p) => p.sessionPubkey),
      ["now", "next"],
    );
    return read.then(
      (queues) =>
        Promise.all(
          peers.map((p) => {
            const queue = queues.get(p.sessionPubkey) ?? { messages: [], low: [] };
            const at = seen.get(p) ?? { statuses: -1, receipts: -1 };
            return this.enqueue(p, { queue, complete: true, ...at, epoch });
          }),
        ).then(() => {}),
      () => Promise.all(peers.map((p) => this.deliver(p))).then(() => {}),
    );
  }

  /**
   * A push frame's text. A group message's recipients share one body, and their frames differ at most in
   * `lowPending`: a broadcast to a thousand serializes its frame once, not a thousand times.
   */
  private pushText(m: PushBody, lowPending: number): string {
    let texts = this.pushTexts.get(m);
    if (!texts) this.pushTexts.set(m, (texts = new Map()));
    let text = texts.get(lowPending);
    if (text === undefined) texts.set(lowPending, (text = JSON.stringify({ type: "push", ...m, lowPending } satisfies ServerFrameOf<"push">)));
    return text;
  }

  private readQueues(sessions: string[], pushable: Priority[]): Promise<Map<string, Queue>> {
    return timed(this.host.metrics, "claudemesh_db_queue_read_seconds", () => this.repo.queues(sessions, pushable, this.host.clock.now()));
  }

  /** One step of a session's delivery chain: with what is already `known` while it still holds, else a queue read. */
  private enqueue(peer: PeerState, known: Known | null, after?: Promise<void>): Promise<void> {
    const d = this.delivery(peer);
    return this.step(d, () =>
      (after ? after.then(() => this.deliverStep(peer, d, known)) : this.deliverStep(peer, d, known)).catch(() => {
        // a failed delivery stays queued and is pushed by the next step, which reads the queue
        d.lowKnown = false;
        d.low = null;
      }),
    );
  }

  private async deliverStep(peer: PeerState, d: Delivery, known: Known | null): Promise<void> {
    if (peer.conn.closed || this.host.peers.session(peer.sessionPubkey) !== peer) return;
    const pushable = pushablePriorities(peer.status);
    // A receipt since a read ahead may concern a row of it; a message pushed from memory meets the
    // receipts it could concern through `acked` instead (a receipt arrives with every push).
    const fresh = known !== null && known.statuses === d.statuses && known.epoch === this.expiries && (!known.complete || known.receipts === d.receipts);
    let queue: Queue;
    // A read ahead is the whole queue as of then (lows stored since, from memory, stay counted); a
    // message from memory only adds to what a read said, so it needs one as of the same expiries.
    if (fresh && (known.complete || (d.lowKnown && d.lowEpoch === known.epoch))) {
      queue = known.queue;
      if (!d.lowKnown || d.lowEpoch !== known.epoch) {
        d.low = null;
        d.lowKnown = true;
        d.lowEpoch = known.epoch;
      }
      for (const id of queue.low) (d.low ??= new Set()).add(id);
    } else {
      const epoch = this.expiries;
      queue = (await this.readQueues([peer.sessionPubkey], pushable)).get(peer.sessionPubkey) ?? { messages: [], low: [] };
      d.low = queue.low.length > 0 ? new Set(queue.low) : null;
      d.lowKnown = true;
      d.lowEpoch = epoch;
    }
    const due = queue.messages.filter((m) => pushable.includes(m.priority) && !d.inflight?.has(m.messageId) && !d.acked?.has(m.messageId));
    if (due.length === 0) return;
    this.host.metrics.count("claudemesh_pushes_total", due.length);
    const lowPending = d.low?.size ?? 0;
    d.inflight ??= new Set();
    for (const m of due) {
      d.inflight.add(m.messageId);
      peer.conn.sendText(this.pushText(m, lowPending));
    }
  }

  readonly handlers = {
    send: async (ctx: HandlerContext, f: ClientFrameOf<"send">) => {
      const count = (outcome: string) => this.host.metrics.count("claudemesh_messages_total", 1, { priority: f.priority, outcome });
      try {
        count(await this.send(ctx, f));
      } catch (err) {
        count(err instanceof WireError ? err.code : "internal");
        throw err;
      }
    },
    received: async (ctx: HandlerContext, f: ClientFrameOf<"received">) => {
      const d = this.delivery(ctx.peer);
      await this.receipts.add(ctx.peer.sessionPubkey, f.messageIds);
      d.receipts++;
      for (const id of f.messageIds) {
        d.inflight?.delete(id);
        d.low?.delete(id);
      }
      if (d.inflight?.size === 0) d.inflight = null;
      if (d.low?.size === 0) d.low = null;
      if (d.steps > 0) {
        const acked = (d.acked ??= new Set());
        for (const id of f.messageIds) acked.add(id);
        for (const id of acked) {
          if (acked.size <= ACKED_KEPT) break;
          acked.delete(id);
        }
      }
      if (f.id) ctx.reply({ type: "ok" });
    },
    surfaced: async (ctx: HandlerContext, f: ClientFrameOf<"surfaced">) => {
      const now = this.host.clock.now();
      await this.repo.markSurfaced(ctx.peer.sessionPubkey, f.messageIds, now);
      // the last recipient to surface a message frees its ciphertext at once, not at the next sweep
      await this.retention.purge(now, f.messageIds);
      if (f.id) ctx.reply({ type: "ok" });
    },
    fetch_queued: async (ctx: HandlerContext, f: ClientFrameOf<"fetch_queued">) => {
      const d = this.delivery(ctx.peer);
      // Run inside the delivery chain so a concurrent push cannot hand the same message out twice.
      let messages: PushBody[] = [];
      let more = 0;
      await this.step(d, async () => {
        const now = this.host.clock.now();
        const session = ctx.peer.sessionPubkey;
        const read = await this.repo.queuedFor(session, ["now", "next", "low"], now, f.maxChars === undefined ? undefined : DRAIN_PAGE_ROWS);
        // a drain hands out the low messages themselves: none is left "waiting"
        messages = pageOf(
          read.map((m) => ({ ...m, lowPending: 0 })),
          f.maxChars,
        );
        // a page that was cut, or that read all it may, can have more behind it: those are counted
        if (messages.length < read.length || read.length === DRAIN_PAGE_ROWS) more = (await this.repo.countQueued(session, now)) - messages.length;
        if (messages.length === 0) return;
        const inflight = (d.inflight ??= new Set());
        for (const m of messages) inflight.add(m.messageId);
      });
      ctx.reply({ type: "queued_messages", messages, ...(f.maxChars === undefined ? {} : { more }) });
    },
    message_status: async (ctx: HandlerContext, f: ClientFrameOf<"message_status">) => {
      const recipients = await this.repo.statusFor(ctx.peer.meshId, ctx.peer.memberId, f.messageId);
      // Not the sender's member (or another mesh): indistinguishable from a message that does not exist.
      if (!recipients) throw new WireError("not_found", `no message ${f.messageId} sent by you`);
      ctx.reply({
        type: "message_status_result",
        messageId: f.messageId,
        delivered: recipients.every((r) => r.status === "delivered" || r.status === "surfaced"),
        recipients,
      });
    },
  };

  private async send(ctx: HandlerContext, f: ClientFrameOf<"send">): Promise<"stored" | "duplicate"> {
    const started = performance.now();
    const { peer, conn } = ctx;
    if (!conn.sendRate.take()) {
      throw new WireError(
        "rate_limited",
        `send rate limit is ${this.host.limits.sendRatePerSec}/s per connection; retry shortly`,
        429,
        conn.sendRate.retryAfterMs(),
      );
    }
    const max = this.host.limits.maxMessageBytes;
    const sizes = [f.group?.ciphertext.length ?? 0, ...(f.envelopes ?? []).map((e) => e.ciphertext.length)];
    if (Math.max(...sizes) > max) throw new WireError("message_too_large", `message exceeds the broker's limit of ${max} bytes of ciphertext`);

    let routed: ReturnType<Messaging["resolve"]>;
    try {
      routed = this.resolve(f, peer);
    } catch (err) {
      // A retry of a stored message is answered with it, even when its recipients have left since. (On
      // the common path the insert's client-id conflict finds retries: no lookup before every send.)
      const previous = err instanceof WireError ? await this.repo.findByClientId(peer.meshId, peer.memberId, f.clientId) : null;
      if (!previous) throw err;
      ctx.reply({ type: "ack", clientId: f.clientId, messageId: previous.id, recipients: previous.recipients, duplicate: true });
      return "duplicate";
    }
    const { targets, recipients, rows } = routed;

    // the id and the time it carries are one instant: messages sort the same by either
    const createdAt = this.host.clock.now();
    const messageId = newSortableId("msg", createdAt);
    const job: InsertJob = {
      message: {
        id: messageId,
        meshId: peer.meshId,
        senderMemberId: peer.memberId,
        senderSessionPubkey: peer.sessionPubkey,
        senderName: peer.displayName,
        clientId: f.clientId,
        targetSpec: targets.join(", "),
        priority: f.priority,
        kind: f.kind,
        nonce: f.kind === "group" ? (f.group?.nonce ?? null) : null,
        ciphertext: f.kind === "group" ? (f.group?.ciphertext ?? null) : null,
        createdAt,
      },
      recipients: rows,
      ttlMs: this.host.limits.messageTtlMs,
      quota: this.quota(),
    };
    let stored: boolean;
    try {
      stored = await this.repo.insert(job);
    } catch (err) {
      // The batch's transaction failed; if this client id is stored after all (a concurrent retry), say so.
      if (err instanceof WireError || !(await this.repo.findByClientId(peer.meshId, peer.memberId, f.clientId))) throw err;
      stored = false;
    }
    if (!stored) {
      const winner = await this.repo.findByClientId(peer.meshId, peer.memberId, f.clientId);
      ctx.reply({ type: "ack", clientId: f.clientId, messageId: winner?.id ?? messageId, recipients: winner?.recipients ?? [], duplicate: true });
      return "duplicate";
    }
    // Durable before acknowledged: the ack only goes out once the transaction committed.
    ctx.reply({
      type: "ack",
      clientId: f.clientId,
      messageId,
      recipients: recipients.map((p) => ({ name: p.displayName, sessionPubkey: p.sessionPubkey })),
      duplicate: false,
    });
    const at = this.host.clock.now();
    this.host.activity.publish(peer.meshId, {
      type: "message_sent",
      at,
      presenceId: peer.presenceId,
      name: peer.displayName,
      priority: f.priority,
      recipients: recipients.length,
    });
    const { message } = job;
    const group = f.kind === "group" ? f.group : undefined;
    const envelopes = new Map(rows.map((r) => [r.sessionPubkey, r]));
    const body = (env: { nonce: string | null; ciphertext: string | null } | undefined): PushBody => ({
      messageId,
      meshId: message.meshId,
      senderName: message.senderName,
      senderMemberName: peer.memberName,
      senderPubkey: message.senderSessionPubkey,
      senderMemberId: message.senderMemberId,
      priority: message.priority,
      kind: message.kind,
      to: message.targetSpec,
      nonce: env?.nonce ?? "",
      ciphertext: env?.ciphertext ?? "",
      createdAt: message.createdAt,
      lowPending: 0,
    });
    // one body for a group message's recipients (one serialized frame), one per envelope for a direct one
    const shared = group ? body(group) : undefined;
    const pushed = this.route(recipients, (p) => shared ?? body(envelopes.get(p.sessionPubkey)));
    // Only `now` is pushed whatever the recipient is doing: other priorities may wait by design.
    if (f.priority === "now" && recipients.length > 0) {
      void pushed.then(() => this.host.metrics.observe("claudemesh_push_latency_seconds", (performance.now() - started) / 1000));
    }
    return "stored";
  }

  /** Who a send reaches, and each recipient's row; a WireError when a target or an envelope is missing. */
  private resolve(f: ClientFrameOf<"send">, peer: PeerState): { targets: string[]; recipients: PeerState[]; rows: NewRecipient[] } {
    const targets = Array.isArray(f.to) ? f.to : [f.to];
    if (f.kind === "group" && !f.group) throw new WireError("invalid_frame", "a group message needs `group` {nonce, ciphertext}");
    if (f.kind === "direct" && targets.some(isGroupTarget)) throw new WireError("invalid_frame", '@group, @all and * targets need kind "group"');
    const recipients = resolveTargets(targets, this.host.peers, peer);
    let rows: NewRecipient[];
    if (f.kind === "group") {
      rows = recipients.map((p) => ({ sessionPubkey: p.sessionPubkey, memberId: p.memberId, name: p.displayName, nonce: null, ciphertext: null }));
    } else {
      const byKey = new Map((f.envelopes ?? []).map((e) => [e.sessionPubkey, e]));
      const missing = recipients.filter((p) => !byKey.has(p.sessionPubkey));
      if (missing.length > 0) {
        throw new WireError(
          "missing_envelope",
          `no envelope for ${missing.map((p) => `${p.displayName} (${p.sessionPubkey})`).join(", ")}; refresh peers and retry`,
        );
      }
      rows = recipients.map((p) => {
        const e = byKey.get(p.sessionPubkey)!;
        return { sessionPubkey: p.sessionPubkey, memberId: p.memberId, name: p.displayName, nonce: e.nonce, ciphertext: e.ciphertext };
      });
    }
    return { targets, recipients, rows };
  }

  /**
   * What a new session finds queued is pushed at once. The sessions connecting in one burst (a reconnect
   * storm) have their queues read together, one statement per 500 instead of one each. The hello does not
   * wait for it: its time in flight is what the hello gate paces a storm by.
   */
  onPeerConnected(peer: PeerState): void {
    this.connecting.push(peer);
    if (this.connectScheduled) return;
    this.connectScheduled = true;
    setImmediate(() => {
      const batch = this.connecting;
      this.connecting = [];
      this.connectScheduled = false;
      void this.deliverAll(batch);
    });
  }

  async onPeerStatusChanged(peer: PeerState): Promise<void> {
    // what a delivery step knew was judged against the old status (a held `next` must go out first)
    this.delivery(peer).statuses++;
    if (peer.status === "idle") await this.deliver(peer);
  }

  private quota(): Quota {
    const l = this.host.limits;
    return {
      member: { messages: l.maxQueuedMessagesPerMember, bytes: l.maxQueuedBytesPerMember },
      mesh: { messages: l.maxQueuedMessagesPerMesh, bytes: l.maxQueuedBytesPerMesh },
    };
  }

  async sweep(): Promise<void> {
    const now = this.host.clock.now();
    if ((await this.repo.expire(now)) > 0) this.expiries++;
    await this.retention.purge(now);
    await this.retention.prune(now, this.host.limits.statusRetentionMs);
  }
}

export const messagingFeature: FeatureFactory = (host) => new Messaging(host);
