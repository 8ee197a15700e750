import { decodeClientFrame, extractId, extractType } from "../protocol/codec.ts";
import type { ClientFrame, ClientFrameType, ServerFrame } from "../protocol/frames.ts";
import { CLIENT_FRAME_TYPES } from "../protocol/frames.ts";
import { MeshRepo } from "../meshes/repo.ts";
import type { Store } from "../store/db.ts";
import { AppError } from "../util/errors.ts";
import { newSecret } from "../util/ids.ts";
import { log } from "../util/log.ts";
import type { BrokerLimits } from "./config.ts";
import type { BrokerFeature, FeatureFactory, Handler, HandlerContext } from "./feature.ts";
import { Connection, type PeerState, type Transport } from "./peer.ts";
import { KeyedRateLimiter } from "./rate.ts";

export const CLOSE = {
  authFailed: 4001,
  replaced: 4002,
  revoked: 4003,
  helloTimeout: 4004,
  pingTimeout: 4008,
  overloaded: 4009,
  /** over a per-member or per-address budget; the error frame before it says when to retry */
  rateLimited: 4029,
  shutdown: 1001,
} as const;

const MAX_PENDING_FRAMES = 1000;

export interface BearerGrant {
  meshId: string;
  memberId: string;
  presenceId: string;
  sessionPubkey: string;
  expiresAt: number;
}

/**
 * The transport-agnostic broker core: connection registry, frame dispatch, presence and lifecycle.
 * It does not know it runs on Bun; `server.ts` maps sockets onto `open/message/close/pong`.
 */
export class Broker {
  readonly repo: MeshRepo;
  readonly features: BrokerFeature[];
  private readonly handlers = new Map<ClientFrameType, Handler<ClientFrameType>>();
  private readonly connections = new Set<Connection>();
  private readonly meshPeers = new Map<string, Set<PeerState>>();
  private readonly sessions = new Map<string, PeerState>();
  private readonly tokens = new Map<string, BearerGrant>();
  /** disconnects still being recorded; stop() waits for them before the store closes */
  private readonly closing = new Set<Promise<void>>();
  private timers: ReturnType<typeof setInterval>[] = [];
  /**
   * Budgets that per-connection limits cannot give: one member or one address opening many connections.
   * A hello costs two ed25519 verifications (~7 ms each in tweetnacl), so both are charged before any.
   */
  private readonly addressConnects: KeyedRateLimiter;
  private readonly memberHellos: KeyedRateLimiter;
  private readonly memberFrames: KeyedRateLimiter;

  constructor(
    readonly store: Store,
    readonly limits: BrokerLimits,
    factories: FeatureFactory[],
  ) {
    this.repo = new MeshRepo(store);
    this.addressConnects = new KeyedRateLimiter(limits.connectRatePerAddress);
    this.memberHellos = new KeyedRateLimiter(limits.helloRatePerMember);
    this.memberFrames = new KeyedRateLimiter(limits.memberFrameRatePerSec);
    this.features = factories.map((f) => f(this));
    for (const feature of this.features) {
      for (const [type, handler] of Object.entries(feature.handlers)) {
        if (this.handlers.has(type as ClientFrameType)) throw new Error(`two handlers for ${type}`);
        this.handlers.set(type as ClientFrameType, handler as Handler<ClientFrameType>);
      }
    }
    const missing = [...CLIENT_FRAME_TYPES].filter((t) => !this.handlers.has(t as ClientFrameType));
    if (missing.length) throw new Error(`no handler for frame types: ${missing.join(", ")}`);
  }

  start(): void {
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
    const conn = new Connection(transport, this.limits.frameRatePerSec, this.limits.sendRatePerSec);
    this.connections.add(conn);
    const wait = address === undefined ? 0 : this.addressConnects.take(address);
    if (wait > 0) {
      this.refuse(conn, new AppError("rate_limited", `too many connections from your address; retry in ${wait} ms`, 429, wait));
      return conn;
    }
    // Its own timer, not the ping sweep: a sweep every 30 s would let a silent socket live up to 40 s.
    conn.helloTimer = setTimeout(() => {
      if (conn.peer || conn.closed) return;
      conn.send({ type: "error", code: "not_authenticated", message: `no valid hello within ${this.limits.helloTimeoutMs} ms; connection closed` });
      conn.close(CLOSE.helloTimeout, "no hello");
      void this.close(conn);
    }, Math.max(0, this.limits.helloTimeoutMs));
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
    conn.queue = conn.queue.then(() => this.handle(conn, text)).finally(() => void conn.pending--);
    return conn.queue;
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
  private refuse(conn: Connection, err: AppError, id?: string): void {
    conn.send({ type: "error", code: err.code, message: err.message, ...(id ? { id } : {}), ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) });
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
    try {
      await this.repo.endPresence(peer.presenceId);
    } catch (err) {
      log.warn("could not record disconnect", { err: String(err) });
    }
    for (const f of this.features) await this.safely(() => f.onPeerDisconnected?.(peer));
  }

  // ---- dispatch ----

  private async handle(conn: Connection, raw: string): Promise<void> {
    if (conn.closed) return;
    let frame: ClientFrame | undefined;
    try {
      if (!conn.frameRate.take()) throw new AppError("rate_limited", "too many frames on this connection; slow down", 429, conn.frameRate.retryAfterMs());
      frame = decodeClientFrame(raw, this.limits.maxFrameBytes);
      if (frame.type === "hello") {
        if (conn.peer) throw new AppError("already_authenticated", "this connection already said hello");
        // Charged before any signature is checked and never refunded: verifying is the cost being capped.
        const wait = this.memberHellos.take(frame.memberId);
        if (wait > 0) return this.refuse(conn, new AppError("rate_limited", `too many hellos for this member; retry in ${wait} ms`, 429, wait), frame.id);
      } else if (!conn.peer) {
        throw new AppError("not_authenticated", "send hello first");
      } else {
        const wait = this.memberFrames.take(conn.peer.memberId);
        if (wait > 0) return this.refuse(conn, new AppError("rate_limited", `too many frames across this member's sessions; retry in ${wait} ms`, 429, wait), frame.id);
      }
      const handler = this.handlers.get(frame.type);
      if (!handler) throw new AppError("unknown_type", `unknown frame type: ${frame.type}`);
      const id = frame.id;
      const ctx: HandlerContext = {
        broker: this,
        conn,
        peer: conn.peer as PeerState,
        reply: (out) => conn.send(id === undefined ? out : ({ ...out, id } as ServerFrame)),
      };
      await handler(ctx, frame);
    } catch (err) {
      const id = frame?.id ?? extractId(raw);
      if (err instanceof AppError) {
        conn.send({ type: "error", code: err.code, message: err.message, ...(id ? { id } : {}), ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) });
        // A refused or malformed hello ends an unauthenticated socket; an authenticated one just gets the error.
        if (!conn.peer && (frame?.type === "hello" || (frame === undefined && extractType(raw) === "hello"))) {
          conn.close(CLOSE.authFailed, err.code);
          void this.close(conn);
        }
      } else {
        log.error("handler failed", { type: frame?.type, err: err instanceof Error ? err.stack : String(err) });
        conn.send({ type: "error", code: "internal", message: "internal error", ...(id ? { id } : {}) });
      }
    }
  }

  private async safely(fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (err) {
      log.error("feature hook failed", { err: err instanceof Error ? err.stack : String(err) });
    }
  }

  // ---- registry ----

  /** Registers an authenticated session; a reconnect with the same session key replaces the old socket. */
  async register(peer: PeerState): Promise<void> {
    const old = this.sessions.get(peer.sessionPubkey);
    if (old) {
      if (old.memberId !== peer.memberId) throw new AppError("unauthorized", "this session key belongs to another member");
      old.conn.close(CLOSE.replaced, "replaced by a newer connection with the same session key");
      await this.close(old.conn);
    }
    this.sessions.set(peer.sessionPubkey, peer);
    let set = this.meshPeers.get(peer.meshId);
    if (!set) this.meshPeers.set(peer.meshId, (set = new Set()));
    set.add(peer);
    peer.conn.peer = peer;
    clearTimeout(peer.conn.helloTimer);
  }

  private unregister(peer: PeerState): void {
    if (this.sessions.get(peer.sessionPubkey) === peer) this.sessions.delete(peer.sessionPubkey);
    const set = this.meshPeers.get(peer.meshId);
    set?.delete(peer);
    if (set && set.size === 0) this.meshPeers.delete(peer.meshId);
    for (const [token, grant] of this.tokens) if (grant.presenceId === peer.presenceId) this.tokens.delete(token);
  }

  async peerConnected(peer: PeerState): Promise<void> {
    for (const f of this.features) await this.safely(() => f.onPeerConnected?.(peer));
  }

  async statusChanged(peer: PeerState): Promise<void> {
    for (const f of this.features) await this.safely(() => f.onPeerStatusChanged?.(peer));
  }

  /** Connected sessions of one mesh; the only way features see other peers, so meshes never mix. */
  peersOf(meshId: string): PeerState[] {
    return [...(this.meshPeers.get(meshId) ?? [])];
  }

  session(sessionPubkey: string): PeerState | undefined {
    return this.sessions.get(sessionPubkey);
  }

  /** Sends to every connected session of a mesh except `except`. */
  broadcast(meshId: string, frame: ServerFrame, except?: PeerState): void {
    for (const p of this.peersOf(meshId)) if (p !== except) p.conn.send(frame);
  }

  /** Disconnects every live session of a member (after revocation). */
  async disconnectMember(memberId: string): Promise<number> {
    const victims = [...this.sessions.values()].filter((p) => p.memberId === memberId);
    for (const p of victims) {
      p.conn.send({ type: "error", code: "member_revoked", message: "this member has been revoked from the mesh" });
      p.conn.close(CLOSE.revoked, "member revoked");
      await this.close(p.conn);
    }
    return victims.length;
  }

  issueToken(peer: PeerState): { token: string; expiresAt: number } {
    const token = newSecret();
    const expiresAt = Date.now() + this.limits.tokenTtlMs;
    this.tokens.set(token, {
      meshId: peer.meshId,
      memberId: peer.memberId,
      presenceId: peer.presenceId,
      sessionPubkey: peer.sessionPubkey,
      expiresAt,
    });
    return { token, expiresAt };
  }

  /** Resolves a bearer token from an HTTP request; expired tokens are forgotten. */
  grant(token: string): BearerGrant | null {
    const g = this.tokens.get(token);
    if (!g) return null;
    if (g.expiresAt <= Date.now()) {
      this.tokens.delete(token);
      return null;
    }
    return g;
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
    for (const budget of [this.addressConnects, this.memberHellos, this.memberFrames]) budget.prune();
    for (const f of this.features) await this.safely(() => f.sweep?.());
  }
}
