import type { KeyPair } from "../crypto/keys.ts";
import { signHello } from "./hello-sign.ts";
import type { GroupMembership, Status } from "../protocol/common.ts";
import type { ClientFrame, ServerFrame, ServerFrameOf, ServerFrameType } from "../protocol/frames.ts";
import { ServerFrame as ServerFrameSchema } from "../protocol/frames.ts";
import { CLOSE } from "../protocol/close-codes.ts";
import { parseWire } from "../protocol/codec.ts";
import { WireError } from "../protocol/wire-error.ts";
import { BrokerUnreachable, ConnectionLost, UnexpectedAnswer } from "../util/errors.ts";
import type { Timers } from "../util/clock.ts";
import { retry } from "../util/retry.ts";
import { BrokerRotation } from "./broker-urls.ts";
import { brokerList, type MeshConfig, meshBrokers } from "./config.ts";
import { Emitter } from "./emitter.ts";
import { wsUrlOf } from "./invite.ts";
import { openWebSocket } from "./tls.ts";

const frameId = (f: ServerFrame): string | undefined => ("id" in f ? f.id : undefined);
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Request = DistributiveOmit<ClientFrame, "id">;

export type ClientEvents = {
  connected: [ack: ServerFrameOf<"hello_ack">, reconnect: boolean];
  disconnected: [code: number, reason: string];
  /** Any frame without a pending request: pushes, state changes, errors. */
  frame: [frame: ServerFrame];
  /** The broker refused us for good (revoked, bad key); no more reconnects. */
  fatal: [error: WireError];
  /** A reconnect was refused for now (our name is taken by another member's session, the broker is busy); we keep trying. */
  retrying: [error: WireError];
};

/** What a session declares about itself; the hello carries it, so a reconnect restores it. */
export interface SessionState {
  groups: Map<string, string | null>;
  status: Status;
  summary: string | null;
  displayName?: string;
  role?: string;
}

/**
 * A feature's part in reconnects: how a request the broker accepted changes the session's state, and
 * which requests restore what a hello cannot carry. The transport knows no feature frame; each feature's
 * client half registers one of these (the list is in mcp/registry.ts).
 */
export interface SessionTracker {
  track(frame: Request, state: SessionState): void;
  /** sent right after a reconnect's hello, before anyone hears the session is back */
  restore?(state: SessionState): Request[];
}

export interface BrokerClientOptions {
  mesh: Pick<MeshConfig, "brokerUrl" | "brokers" | "meshId" | "memberId" | "pubkey" | "secretKey" | "caFile">;
  /** `--broker`: this one URL only, never another node of the mesh (for operators and tests) */
  pin?: string;
  session: KeyPair;
  displayName?: string;
  role?: string;
  groups?: GroupMembership[];
  status?: Status;
  sessionId?: string;
  cwd?: string;
  reconnect?: boolean;
  requestTimeoutMs?: number;
  /** a try that has no hello_ack by then is given up and the next URL tried (a host that never answers) */
  connectTimeoutMs?: number;
  backoff?: { minMs: number; maxMs: number };
  /** the reconnect's waits (tests pass a ManualClock) */
  timers?: Timers;
  /** the features whose state a reconnect restores; none for one-shot clients */
  trackers?: readonly SessionTracker[];
}

/** The reconnect's backoff unless the options set one: full jitter from 200 ms, doubling up to 10 s. */
export const RECONNECT_BACKOFF = { minMs: 200, maxMs: 10_000 };

/** Close codes after which reconnecting can never help. */
const FATAL_CLOSES = new Set<number>([CLOSE.authFailed, CLOSE.revoked]);

interface Pending {
  resolve(f: ServerFrame): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One session's connection to its broker: hello with member + session signatures, request/response
 * correlation by id, and reconnect with backoff that keeps the same session key (so queued messages
 * stay decryptable) and restores the session's groups, status and summary.
 */
export class BrokerClient extends Emitter<ClientEvents> {
  private ws: WebSocket | null = null;
  private pending = new Map<string, Pending>();
  private waiters: (() => void)[] = [];
  private seq = 0;
  private closedByUser = false;
  /** the running reconnect loop; aborting it ends the waiting */
  private reconnecting: AbortController | null = null;
  private everConnected = false;
  /** the broker's hint from its last rate_limited refusal */
  private retryAfterMs = 0;
  /** Latest hello_ack; null while disconnected. */
  ack: ServerFrameOf<"hello_ack"> | null = null;
  /** Session state re-applied on reconnect. */
  readonly state: SessionState;
  /** the broker URLs this session tries, in turn */
  readonly brokers: BrokerRotation;

  constructor(private readonly opts: BrokerClientOptions) {
    super();
    this.state = {
      groups: new Map((opts.groups ?? []).map((g) => [g.name, g.role])),
      status: opts.status ?? "idle",
      summary: null,
      displayName: opts.displayName,
      role: opts.role,
    };
    this.brokers = opts.pin !== undefined ? new BrokerRotation([opts.pin], true) : new BrokerRotation(meshBrokers(opts.mesh), false);
  }

  /** The broker URL of the current connection, or the one the next try dials. */
  get url(): string {
    return this.brokers.current;
  }

  get sessionPubkey(): string {
    return this.opts.session.publicKey;
  }

  get connected(): boolean {
    return this.ack !== null;
  }

  /** Connects and says hello; rejects with the broker's error if the hello is refused. */
  connect(): Promise<ServerFrameOf<"hello_ack">> {
    this.closedByUser = false;
    return this.open();
  }

  private open(): Promise<ServerFrameOf<"hello_ack">> {
    return new Promise((resolve, reject) => {
      const url = this.brokers.current;
      const ws = openWebSocket(wsUrlOf(url), this.opts.mesh.caFile);
      this.ws = ws;
      let settled = false;
      // Every try that ends without a hello_ack moves the rotation on: the next try dials the next URL.
      const failed = () => {
        clearTimeout(connectTimer);
        this.brokers.advance();
      };
      const connectTimer = setTimeout(() => {
        if (settled) return;
        settled = true;
        failed();
        if (this.ws === ws) this.ws = null;
        reject(new BrokerUnreachable(`the broker at ${url} did not answer within ${this.opts.connectTimeoutMs ?? 10_000} ms`));
        ws.close(CLOSE.normal, "timed out");
      }, this.opts.connectTimeoutMs ?? 10_000);
      const helloId = this.nextId();
      let helloSent = false;
      /** this try was refused only because another member's session holds our name */
      let nameTaken = false;
      // The broker speaks first: its challenge is what the hello signs.
      const sendHello = (challenge: string) => {
        const hello = signHello(
          {
            type: "hello",
            id: helloId,
            challenge,
            meshId: this.opts.mesh.meshId,
            memberId: this.opts.mesh.memberId,
            pubkey: this.opts.mesh.pubkey,
            sessionPubkey: this.opts.session.publicKey,
            timestamp: Date.now(),
            ...(this.state.displayName ? { displayName: this.state.displayName } : {}),
            ...(this.state.role ? { role: this.state.role } : {}),
            groups: [...this.state.groups].map(([name, role]) => ({ name, role })),
            status: this.state.status,
            ...(this.opts.sessionId !== undefined ? { sessionId: this.opts.sessionId } : {}),
            pid: process.pid,
            cwd: this.opts.cwd ?? process.cwd(),
          },
          this.opts.mesh.secretKey,
          this.opts.session.secretKey,
        );
        ws.send(JSON.stringify(hello));
      };
      ws.onmessage = (ev) => {
        // a try given up on (timed out) that answered after all
        if (this.ws !== ws) return;
        const frame = this.parse(ev.data);
        if (!frame) return;
        if (frame.type === "challenge") {
          if (helloSent || settled) return;
          helloSent = true;
          try {
            sendHello(frame.challenge);
          } catch (err) {
            settled = true;
            clearTimeout(connectTimer);
            this.giveUp();
            reject(err);
            ws.close(CLOSE.normal, "invalid hello");
          }
          return;
        }
        // Before the hello is answered, an error without an id is the broker refusing this socket (over budget, timed out).
        if (!settled && (frameId(frame) === helloId || (frame.type === "error" && frameId(frame) === undefined))) {
          settled = true;
          if (frame.type === "hello_ack") {
            clearTimeout(connectTimer);
            this.brokers.update(brokerList(this.opts.mesh.brokerUrl, frame.brokers ?? []));
            const reconnect = this.everConnected;
            this.everConnected = true;
            this.ack = frame;
            // Restore the summary before anyone hears we are back, so peers never see a half-restored session.
            void this.afterHello().then(() => {
              resolve(frame);
              this.emit("connected", frame, reconnect);
              for (const w of this.waiters.splice(0)) w();
            });
          } else if (frame.type === "error") {
            failed();
            const err = new WireError(frame.code, frame.message, undefined, frame.retryAfterMs);
            reject(err);
            // Over a budget, the broker busy admitting a storm of sessions, or our hello still queued there
            // when its hello timeout fired (not_authenticated): temporary. The broker closes and the
            // reconnect loop waits out the error's hint, or its backoff.
            if (frame.code === "rate_limited" || frame.code === "busy" || frame.code === "not_authenticated") {
              if (this.everConnected) this.emit("retrying", err);
              return;
            }
            // Another member's session took our name while we were away: keep trying until it is free
            // again, rather than letting a squatter end this session for good.
            if (frame.code === "name_taken" && this.everConnected) {
              nameTaken = true;
              this.emit("retrying", err);
            } else {
              if (this.everConnected) this.emit("fatal", err);
              this.giveUp();
            }
          }
          return;
        }
        this.dispatch(frame);
      };
      ws.onclose = (ev) => {
        const unreachable = () => new BrokerUnreachable(`cannot connect to the broker at ${url} (${ev.code}${ev.reason ? ` ${ev.reason}` : ""})`);
        // A refused try's socket can close after the next try opened its own: it owns nothing any more.
        if (this.ws !== ws) {
          clearTimeout(connectTimer);
          if (!settled) reject(unreachable());
          settled = true;
          return;
        }
        this.ws = null;
        const wasConnected = this.ack !== null;
        this.ack = null;
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new ConnectionLost("disconnected from the broker"));
        }
        this.pending.clear();
        if (!settled) {
          settled = true;
          failed();
          reject(unreachable());
        }
        if (wasConnected) this.emit("disconnected", ev.code, ev.reason);
        if (FATAL_CLOSES.has(ev.code) && this.everConnected && !this.closedByUser && !nameTaken) {
          this.emit("fatal", new WireError(ev.code === CLOSE.revoked ? "member_revoked" : "unauthorized", ev.reason || "refused by the broker"));
          this.giveUp();
        }
        this.scheduleReconnect();
      };
      ws.onerror = () => {
        // onclose follows and carries the details
      };
    });
  }

  private async afterHello(): Promise<void> {
    for (const t of this.opts.trackers ?? []) for (const frame of t.restore?.(this.state) ?? []) await this.transmit(frame).catch(() => {});
  }

  /** No more reconnects: the user closed us, or the broker refused us for good. */
  private giveUp(): void {
    this.closedByUser = true;
    this.reconnecting?.abort();
  }

  /** Called on every close; one loop runs at a time, and the closes of its own failed tries land here too. */
  private scheduleReconnect(): void {
    if (this.closedByUser || this.opts.reconnect === false || !this.everConnected || this.reconnecting) return;
    const abort = new AbortController();
    this.reconnecting = abort;
    const { minMs, maxMs } = this.opts.backoff ?? RECONNECT_BACKOFF;
    const hint = this.retryAfterMs;
    this.retryAfterMs = 0;
    retry(() => this.open(), {
      baseMs: minMs,
      capMs: maxMs,
      signal: abort.signal,
      ...(this.opts.timers ? { timers: this.opts.timers } : {}),
      delayFirst: { hintMs: hint },
      // Every failed try is worth another: the refusals no retry can fix end the loop through giveUp().
      retryable: () => true,
      retryAfterMs: (err) => (err instanceof WireError ? err.retryAfterMs : undefined),
    })
      .catch(() => {})
      .finally(() => {
        if (this.reconnecting === abort) this.reconnecting = null;
        // dropped again while restoring the session, after the loop's last try had already succeeded
        if (!this.connected) this.scheduleReconnect();
      });
  }

  private parse(data: unknown): ServerFrame | null {
    try {
      const parsed = parseWire(ServerFrameSchema, JSON.parse(String(data)));
      return parsed.ok ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private dispatch(frame: ServerFrame): void {
    const id = frameId(frame);
    const p = id !== undefined ? this.pending.get(id) : undefined;
    if (p && id !== undefined) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (frame.type === "error") {
        if (frame.code === "rate_limited" && frame.retryAfterMs !== undefined) this.retryAfterMs = frame.retryAfterMs;
        p.reject(new WireError(frame.code, frame.message, undefined, frame.retryAfterMs));
      } else p.resolve(frame);
      return;
    }
    this.emit("frame", frame);
  }

  private nextId(): string {
    return `r${++this.seq}`;
  }

  /** Resolves once connected (immediately if already). */
  ready(timeoutMs = this.opts.requestTimeoutMs ?? 15_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new ConnectionLost("not connected to the broker")), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * Sends a request and resolves with its response frame; an `error` frame rejects with a WireError
   * carrying the broker's code. Requests made while reconnecting wait for the connection.
   */
  async request<T extends ServerFrameType = ServerFrameType>(frame: Request, expect?: T): Promise<ServerFrameOf<T>> {
    await this.ready();
    return this.transmit(frame, expect);
  }

  /** Sends on the current socket without waiting for the connected state (used during reconnect). */
  private async transmit<T extends ServerFrameType = ServerFrameType>(frame: Request, expect?: T): Promise<ServerFrameOf<T>> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new ConnectionLost("not connected to the broker");
    const id = this.nextId();
    const res = await new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ConnectionLost(`broker did not answer ${frame.type} in time`));
      }, this.opts.requestTimeoutMs ?? 15_000);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...frame, id }));
    });
    if (expect && res.type !== expect) throw new UnexpectedAnswer(`expected ${expect}, got ${res.type}`);
    this.track(frame);
    return res as ServerFrameOf<T>;
  }

  /** Remembers what must be re-applied after a reconnect. */
  private track(frame: Request): void {
    for (const t of this.opts.trackers ?? []) t.track(frame, this.state);
  }

  /** Sends a frame that has no response (e.g. receipts). Dropped silently while disconnected. */
  notify(frame: Request): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.connected) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  close(): void {
    this.giveUp();
    this.ws?.close(CLOSE.normal, "bye");
  }

  /** For tests and diagnostics: drops the socket as if the network failed, keeping reconnect on. */
  dropConnection(): void {
    this.ws?.close(CLOSE.dropped, "dropped");
  }
}
