import { decodeClientFrame, extractId, extractType } from "../protocol/codec.ts";
import type { ActivityEvent } from "../protocol/activity.ts";
import { CLOSE } from "../protocol/close-codes.ts";
import { WireError } from "../protocol/wire-error.ts";
import type { ClientFrame, ClientFrameType, ServerFrame } from "../protocol/frames.ts";
import { CLIENT_FRAME_TYPES } from "../protocol/frames.ts";
import type { Store } from "../store/db.ts";
import type { Migration } from "../store/migration.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { type Logger, log as defaultLog } from "../util/log.ts";
import { type Bus, InProcessBus } from "./bus.ts";
import type { BrokerLimits } from "./config.ts";
import type { Feature, FeatureFactory, FeatureHost, Handler, HandlerContext, MeshViews, PeerRegistry, Routes } from "./host.ts";
import { type Metrics, noopMetrics } from "./metrics.ts";
import { Connection, IDLE, type PeerState, type Transport } from "./peer.ts";
import { KeyedRateLimiter } from "./rate.ts";

const MAX_PENDING_FRAMES = 1000;

/** The bus topic of host.activity: on the bus, so activity crosses broker nodes with everything else. */
const ACTIVITY_TOPIC = "mesh.activity";
interface MeshActivity {
  meshId: string;
  event: ActivityEvent;
}

const errorFrame = (err: WireError, id?: string): ServerFrame => ({
  type: "error",
  code: err.code,
  message: err.message,
  ...(id ? { id } : {}),
  ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
});

export interface BrokerDeps {
  store: Store;
  limits: BrokerLimits;
  features: FeatureFactory[];
  clock?: Clock;
  log?: Logger;
  metrics?: Metrics;
  bus?: Bus;
}

/**
 * The transport-agnostic broker core: connections, frame dispatch and ordering, the peer registry and
 * the ping sweep. It knows no feature: hello, presence records and tokens are the meshes feature's.
 * `server/bun.ts` maps sockets onto `open/message/close/pong`.
 */
export class Broker implements PeerRegistry {
  readonly store: Store;
  readonly limits: BrokerLimits;
  readonly host: FeatureHost;
  readonly features: Feature[];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly handlers = new Map<ClientFrameType, Handler<ClientFrameType>>();
  private readonly unauthenticated = new Set<ClientFrameType>();
  private readonly connections = new Set<Connection>();
  private readonly meshPeers = new Map<string, Set<PeerState>>();
  private readonly sessions = new Map<string, PeerState>();
  /** other nodes' sessions, by presence id, and by mesh (they join peersOf) */
  private readonly remote = new Map<string, PeerState>();
  private readonly meshRemotes = new Map<string, Set<PeerState>>();
  private readonly remoteKeys = new Map<string, Set<PeerState>>();
  /** every session (this node's and the others') by mesh and display name: a send or a hello names one */
  private readonly byName = new Map<string, Map<string, PeerState | PeerState[]>>();
  /** disconnects still being recorded; stop() waits for them before the store closes */
  private readonly closing = new Set<Promise<void>>();
  private timers: ReturnType<typeof setInterval>[] = [];
  /**
   * Budgets that per-connection limits cannot give: one member or one address opening many connections.
   * (The per-member hello budget is the meshes feature's: it is charged once the member's signature verifies.)
   */
  private readonly addressConnects: KeyedRateLimiter;
  private readonly memberFrames: KeyedRateLimiter;

  constructor(deps: BrokerDeps) {
    this.store = deps.store;
    const metrics = deps.metrics ?? noopMetrics;
    this.store.writer.observe = (jobs, seconds) => {
      metrics.observe("claudemesh_commit_batch_size", jobs);
      metrics.observe("claudemesh_db_commit_seconds", seconds);
    };
    this.limits = deps.limits;
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? defaultLog;
    const checkpoints = this.store.checkpoints;
    if (checkpoints) {
      checkpoints.observe = (_frames, seconds) => metrics.observe("claudemesh_db_checkpoint_seconds", seconds);
      const failed = (reason: string) => this.log.warn("WAL checkpoints back on the event loop: their worker failed", { reason });
      checkpoints.onFailure = failed;
      if (checkpoints.failure !== null) failed(checkpoints.failure);
    }
    this.addressConnects = new KeyedRateLimiter(deps.limits.connectRatePerAddress);
    this.memberFrames = new KeyedRateLimiter(deps.limits.memberFrameRatePerSec);
    const logBusError = (err: unknown) => this.log.error("bus listener failed", { err: err instanceof Error ? err.stack : String(err) });
    let auth: Feature["auth"];
    let cluster: Feature["cluster"];
    const earlySubscriptions = new Set<{ topic: string; listener: (payload: unknown, from: string) => void; off: () => void }>();
    const bus = deps.bus ?? new InProcessBus(logBusError);
    const views: Partial<MeshViews> = {};
    this.host = {
      store: deps.store,
      clock: this.clock,
      limits: deps.limits,
      log: this.log,
      metrics,
      bus,
      peers: this,
      auth: {
        grant: (token) => auth?.grant(token) ?? null,
        isAdmin: (req) => auth?.isAdmin(req) ?? false,
        signedMember: async (req, text) => (auth ? auth.signedMember(req, text) : null),
        mesh: async (meshId) => (auth ? auth.mesh(meshId) : null),
        members: async (meshId) => (auth ? auth.members(meshId) : []),
      },
      // One node until a feature links nodes: nobody else to reach. Features subscribe while they are
      // built, before the linking feature is known: those subscriptions are attached once it is.
      cluster: {
        send: (nodeId, topic, payload) => cluster?.send(nodeId, topic, payload),
        publish: (topic, payload) => cluster?.publish(topic, payload),
        otherNodes: () => cluster?.otherNodes() ?? [],
        subscribe: (topic, listener) => {
          if (cluster) return cluster.subscribe(topic, listener);
          const early = { topic, listener, off: () => {} };
          earlySubscriptions.add(early);
          return () => {
            earlySubscriptions.delete(early);
            early.off();
          };
        },
      },
      activity: {
        publish: (meshId, event) => bus.publish(ACTIVITY_TOPIC, { meshId, event } satisfies MeshActivity),
        subscribe: (listener) =>
          bus.subscribe(ACTIVITY_TOPIC, (payload) => {
            const { meshId, event } = payload as MeshActivity;
            listener(meshId, event);
          }),
      },
      views,
    };
    this.features = deps.features.map((f) => f(this.host));
    for (const feature of this.features) {
      if (feature.auth) {
        if (auth) throw new Error(`two features issue session tokens (${feature.name})`);
        auth = feature.auth;
      }
      if (feature.cluster) {
        if (cluster) throw new Error(`two features link broker nodes (${feature.name})`);
        cluster = feature.cluster;
      }
      for (const part of Object.keys(feature.views ?? {})) {
        if (part in views) throw new Error(`two features register the view ${part}`);
      }
      Object.assign(views, feature.views);
      for (const [type, handler] of Object.entries(feature.handlers ?? {})) {
        if (this.handlers.has(type as ClientFrameType)) throw new Error(`two handlers for ${type}`);
        this.handlers.set(type as ClientFrameType, handler as Handler<ClientFrameType>);
      }
      for (const type of feature.unauthenticated ?? []) this.unauthenticated.add(type);
    }
    for (const early of earlySubscriptions) if (cluster) early.off = cluster.subscribe(early.topic, early.listener);
    const missing = [...CLIENT_FRAME_TYPES].filter((t) => !this.handlers.has(t as ClientFrameType));
    if (missing.length) throw new Error(`no handler for frame types: ${missing.join(", ")}`);
  }

  /** Every feature's schema steps, in version order; versions are global, so two features never share one. */
  migrations(): Migration[] {
    const all = this.features.flatMap((f) => f.migrations ?? []);
    const versions = new Set<number>();
    for (const m of all) {
      if (versions.has(m.version)) throw new Error(`two migrations with version ${m.version}`);
      versions.add(m.version);
    }
    return all.sort((a, b) => a.version - b.version);
  }

  /** Every feature's HTTP routes; a path claimed twice is a wiring bug. */
  routes(): Routes {
    const out: Routes = {};
    for (const f of this.features) {
      for (const [path, methods] of Object.entries(f.routes ?? {})) {
        if (out[path]) throw new Error(`two features route ${path}`);
        out[path] = methods;
      }
    }
    return out;
  }

  async start(): Promise<void> {
    for (const f of this.features) await f.start?.();
    this.timers.push(setInterval(() => void this.pingSweep(), this.limits.pingIntervalMs));
    this.timers.push(setInterval(() => void this.housekeeping(), this.limits.sweepIntervalMs));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // Each connection is closed and unregistered here, while the store is still open, so its in-flight
    // frames finish and its disconnect is recorded; the socket's own close event then finds nothing to do.
    for (const conn of [...this.connections]) {
      conn.close(CLOSE.shutdown, "broker shutting down");
      void this.close(conn);
    }
    await Promise.allSettled([...this.closing]);
    for (const f of this.features) await f.stop?.();
  }

  // ---- transport events ----

  /** `address` is the remote address; in-process transports (tests) have none and no address budget. */
  open(transport: Transport, address?: string): Connection {
    const conn = new Connection(transport, this.limits.frameRatePerSec, this.limits.sendRatePerSec, address);
    this.connections.add(conn);
    const wait = address === undefined ? 0 : this.addressConnects.take(address);
    if (wait > 0) {
      this.refuse(conn, new WireError("rate_limited", `too many connections from your address; retry in ${wait} ms`, 429, wait));
      return conn;
    }
    conn.send({ type: "challenge", challenge: conn.challenge });
    // Its own timer, not the ping sweep: a sweep every 30 s would let a silent socket live up to 40 s.
    conn.helloTimer = setTimeout(
      () => {
        if (conn.peer || conn.closed) return;
        conn.send({ type: "error", code: "not_authenticated", message: `no valid hello within ${this.limits.helloTimeoutMs} ms; connection closed` });
        conn.close(CLOSE.helloTimeout, "no hello");
        void this.close(conn);
      },
      Math.max(0, this.limits.helloTimeoutMs),
    );
    // in-process connections that are never closed must not keep a process alive
    conn.helloTimer.unref?.();
    return conn;
  }

  message(conn: Connection, raw: string | Uint8Array): Promise<void> {
    conn.missedPings = 0;
    // A client that pipelines frames faster than they are handled would grow this queue without bound.
    if (++conn.pending > MAX_PENDING_FRAMES) {
      conn.send({ type: "error", code: "rate_limited", message: `more than ${MAX_PENDING_FRAMES} frames waiting; connection closed` });
      conn.close(CLOSE.overloaded, "too many pending frames");
      void this.close(conn);
      return conn.queue;
    }
    const text = typeof raw === "string" ? raw : new TextDecoder("utf-8", { fatal: false }).decode(raw);
    const queued = conn.queue
      .then(() => this.handle(conn, text))
      .finally(() => {
        if (--conn.pending === 0 && conn.queue === queued) conn.queue = IDLE;
      });
    conn.queue = queued;
    return queued;
  }

  pong(conn: Connection): void {
    conn.missedPings = 0;
  }

  close(conn: Connection): Promise<void> {
    if (!this.connections.delete(conn)) return Promise.resolve();
    const done = this.finishClose(conn).finally(() => this.closing.delete(done));
    this.closing.add(done);
    return done;
  }

  /** Says why, then closes: over a budget. */
  private refuse(conn: Connection, err: WireError, id?: string): void {
    conn.send(errorFrame(err, id));
    conn.close(CLOSE.rateLimited, err.code);
    void this.close(conn);
  }

  private async finishClose(conn: Connection): Promise<void> {
    conn.closed = true;
    clearTimeout(conn.helloTimer);
    await conn.queue;
    const peer = conn.peer;
    if (!peer) return;
    conn.peer = null;
    this.unregister(peer);
    for (const f of this.features) await this.safely(() => f.onPeerDisconnected?.(peer));
  }

  // ---- dispatch ----

  private async handle(conn: Connection, raw: string): Promise<void> {
    if (conn.closed) return;
    let frame: ClientFrame | undefined;
    let opening = false;
    try {
      if (!conn.frameRate.take()) {
        const wait = Math.max(1, conn.frameRate.retryAfterMs());
        throw new WireError("rate_limited", `too many frames on this connection; retry in ${wait} ms`, 429, wait);
      }
      try {
        frame = decodeClientFrame(raw, this.limits.maxFrameBytes);
      } finally {
        this.host.metrics.count("claudemesh_frames_total", 1, { type: frame?.type ?? "invalid" });
      }
      opening = this.unauthenticated.has(frame.type);
      if (opening) {
        if (conn.peer) throw new WireError("already_authenticated", "this connection already said hello");
      } else if (!conn.peer) {
        throw new WireError("not_authenticated", "send hello first");
      } else {
        const wait = this.memberFrames.take(conn.peer.memberId);
        if (wait > 0)
          return this.refuse(conn, new WireError("rate_limited", `too many frames across this member's sessions; retry in ${wait} ms`, 429, wait), frame.id);
      }
      const handler = this.handlers.get(frame.type);
      if (!handler) throw new WireError("unknown_type", `unknown frame type: ${frame.type}`);
      const id = frame.id;
      const ctx: HandlerContext = {
        conn,
        peer: conn.peer as PeerState,
        reply: (out) => conn.send(id === undefined ? out : ({ ...out, id } as ServerFrame)),
        refuse: (err) => this.refuse(conn, err, id),
      };
      await handler(ctx, frame);
    } catch (err) {
      const id = frame?.id ?? extractId(raw);
      if (err instanceof WireError) {
        conn.send(errorFrame(err, id));
        // A refused or malformed hello ends an unauthenticated socket; an authenticated one just gets the error.
        if (!conn.peer && (opening || (frame === undefined && this.unauthenticated.has(extractType(raw) as ClientFrameType)))) {
          conn.close(CLOSE.authFailed, err.code);
          void this.close(conn);
        }
      } else {
        this.log.error("handler failed", { type: frame?.type, err: err instanceof Error ? err.stack : String(err) });
        conn.send({ type: "error", code: "internal", message: "internal error", ...(id ? { id } : {}) });
      }
    }
  }

  private async safely(fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.error("feature hook failed", { err: err instanceof Error ? err.stack : String(err) });
    }
  }

  // ---- registry ----

  async register(peer: PeerState): Promise<void> {
    const old = this.sessions.get(peer.sessionPubkey);
    const moved = this.remotes(undefined, peer.sessionPubkey);
    if ([old, ...moved].some((p) => p && p.memberId !== peer.memberId)) throw new WireError("unauthorized", "this session key belongs to another member");
    if (old) {
      old.conn.close(CLOSE.replaced, "replaced by a newer connection with the same session key");
      await this.close(old.conn);
    }
    // The session moved here from another node (its socket there may not have noticed yet): that one ends.
    for (const p of moved) {
      p.conn.close(CLOSE.replaced, "replaced by a newer connection with the same session key on another broker node");
      this.drop(p.presenceId);
    }
    this.sessions.set(peer.sessionPubkey, peer);
    let set = this.meshPeers.get(peer.meshId);
    if (!set) this.meshPeers.set(peer.meshId, (set = new Set()));
    set.add(peer);
    this.indexName(peer, true);
    peer.conn.peer = peer;
    // what only the hello needed goes, not to be held for the session's life
    clearTimeout(peer.conn.helloTimer);
    peer.conn.helloTimer = undefined;
    peer.conn.challenge = "";
  }

  private unregister(peer: PeerState): void {
    if (this.sessions.get(peer.sessionPubkey) === peer) this.sessions.delete(peer.sessionPubkey);
    const set = this.meshPeers.get(peer.meshId);
    set?.delete(peer);
    if (set && set.size === 0) this.meshPeers.delete(peer.meshId);
    this.indexName(peer, false);
  }

  /** A name is almost always one session's: it maps to that session, and to a list only when shared. */
  private indexName(peer: PeerState, add: boolean): void {
    let names = this.byName.get(peer.meshId);
    if (!names) {
      if (!add) return;
      this.byName.set(peer.meshId, (names = new Map()));
    }
    const had = names.get(peer.displayName);
    if (add) {
      if (had === undefined) names.set(peer.displayName, peer);
      else if (Array.isArray(had)) {
        if (!had.includes(peer)) had.push(peer);
      } else if (had !== peer) names.set(peer.displayName, [had, peer]);
      return;
    }
    if (had === peer) names.delete(peer.displayName);
    else if (Array.isArray(had)) {
      const rest = had.filter((p) => p !== peer);
      names.set(peer.displayName, rest.length === 1 ? (rest[0] as PeerState) : rest);
    }
    if (names.size === 0) this.byName.delete(peer.meshId);
  }

  named(meshId: string, displayName: string): PeerState[] {
    const had = this.byName.get(meshId)?.get(displayName);
    return had === undefined ? [] : Array.isArray(had) ? [...had] : [had];
  }

  async connected(peer: PeerState): Promise<void> {
    for (const f of this.features) await this.safely(() => f.onPeerConnected?.(peer));
  }

  async statusChanged(peer: PeerState): Promise<void> {
    for (const f of this.features) await this.safely(() => f.onPeerStatusChanged?.(peer));
  }

  async updated(peer: PeerState): Promise<void> {
    for (const f of this.features) await this.safely(() => f.onPeerUpdated?.(peer));
  }

  peersOf(meshId: string): PeerState[] {
    const local = this.meshPeers.get(meshId);
    const remote = this.meshRemotes.get(meshId);
    return remote ? [...(local ?? []), ...remote] : [...(local ?? [])];
  }

  adopt(peer: PeerState): void {
    this.drop(peer.presenceId);
    this.remote.set(peer.presenceId, peer);
    for (const [index, key] of [
      [this.meshRemotes, peer.meshId],
      [this.remoteKeys, peer.sessionPubkey],
    ] as const) {
      let set = index.get(key);
      if (!set) index.set(key, (set = new Set()));
      set.add(peer);
    }
    this.indexName(peer, true);
  }

  drop(presenceId: string): void {
    const peer = this.remote.get(presenceId);
    if (!peer) return;
    this.remote.delete(presenceId);
    for (const [index, key] of [
      [this.meshRemotes, peer.meshId],
      [this.remoteKeys, peer.sessionPubkey],
    ] as const) {
      const set = index.get(key);
      set?.delete(peer);
      if (set && set.size === 0) index.delete(key);
    }
    this.indexName(peer, false);
  }

  localSessions(): PeerState[] {
    return [...this.sessions.values()];
  }

  remotes(nodeId?: string, sessionPubkey?: string): PeerState[] {
    const all = [...(sessionPubkey === undefined ? this.remote.values() : (this.remoteKeys.get(sessionPubkey) ?? []))];
    return nodeId === undefined ? all : all.filter((p) => p.nodeId === nodeId);
  }

  async disconnect(peer: PeerState, code: number, reason: string): Promise<void> {
    if (this.sessions.get(peer.sessionPubkey) !== peer) return;
    peer.conn.close(code, reason);
    await this.close(peer.conn);
  }

  session(sessionPubkey: string): PeerState | undefined {
    return this.sessions.get(sessionPubkey);
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  broadcast(meshId: string, frame: ServerFrame, except?: PeerState): void {
    for (const p of this.peersOf(meshId)) if (p !== except) p.conn.send(frame);
  }

  async disconnectMember(memberId: string): Promise<number> {
    // its sessions on other nodes too: their conn forwards the error and the close to their node
    const victims = [...this.sessions.values(), ...this.remote.values()].filter((p) => p.memberId === memberId);
    for (const p of victims) {
      p.conn.send({ type: "error", code: "member_revoked", message: "this member has been revoked from the mesh" });
      p.conn.close(CLOSE.revoked, "member revoked");
      if (p.nodeId === undefined) await this.close(p.conn);
      else this.drop(p.presenceId);
    }
    return victims.length;
  }

  counts(): { connections: number; sessionsByMesh: Map<string, number> } {
    return { connections: this.connections.size, sessionsByMesh: new Map([...this.meshPeers].map(([mesh, set]) => [mesh, set.size])) };
  }

  connectionCount(): number {
    return this.connections.size;
  }

  // ---- sweeps ----

  /** Pings every socket; sockets that missed too many pings are dropped (hello-less ones have their own timer). */
  async pingSweep(): Promise<void> {
    const dropped: Promise<void>[] = [];
    for (const conn of [...this.connections]) {
      if (conn.missedPings >= this.limits.maxMissedPings) {
        conn.close(CLOSE.pingTimeout, "ping timeout");
        dropped.push(this.close(conn));
        continue;
      }
      conn.missedPings++;
      try {
        conn.transport.ping();
      } catch {
        // close event follows
      }
    }
    await Promise.all(dropped);
  }

  async housekeeping(): Promise<void> {
    for (const budget of [this.addressConnects, this.memberFrames]) budget.prune();
    for (const f of this.features) await this.safely(() => f.sweep?.());
  }
}
