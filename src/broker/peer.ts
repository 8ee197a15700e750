import type { Status } from "../protocol/common.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { newChallenge } from "../crypto/keys.ts";
import { RateLimiter } from "./rate.ts";

/** What the broker needs from a socket; the Bun adapter and in-process tests both provide it. */
export interface Transport {
  send(data: string): void;
  close(code: number, reason: string): void;
  ping(): void;
}

/** An authenticated session: one per session key, routed by it. */
export interface PeerState {
  presenceId: string;
  meshId: string;
  memberId: string;
  /** the member's name from its enrolment; `displayName` is what this session calls itself */
  memberName: string;
  displayName: string;
  role: string | null;
  groups: Map<string, string | null>;
  status: Status;
  summary: string | null;
  sessionPubkey: string;
  connectedAt: number;
  conn: Connection;
  /** set when the session lives on another broker node: `conn` forwards there */
  nodeId?: string;
}

let nextConnId = 1;

/** One settled promise shared by every idle chain: ten thousand idle sessions hold no promise of their own. */
export const IDLE: Promise<void> = Promise.resolve();

export class Connection {
  readonly id = nextConnId++;
  /** sent as the socket's first frame; only a hello signed over it authenticates this connection (emptied after it) */
  challenge = newChallenge();
  peer: PeerState | null = null;
  missedPings = 0;
  /** frames received but not yet handled */
  pending = 0;
  closed = false;
  /** closes the socket if no valid hello arrives in time; cleared by the hello */
  helloTimer: ReturnType<typeof setTimeout> | undefined;
  /** Frames of one connection are handled strictly in order; back to IDLE when none is pending. */
  queue: Promise<void> = IDLE;
  readonly frameRate: RateLimiter;
  readonly sendRate: RateLimiter;

  constructor(
    readonly transport: Transport,
    frameRatePerSec: number,
    sendRatePerSec: number,
    /** the remote address; in-process transports (tests) have none */
    readonly address?: string,
  ) {
    this.frameRate = new RateLimiter(frameRatePerSec);
    this.sendRate = new RateLimiter(sendRatePerSec);
  }

  send(frame: ServerFrame): void {
    if (this.closed) return;
    try {
      this.transport.send(JSON.stringify(frame));
    } catch {
      // a socket that died under us is cleaned up by its close event
    }
  }

  /** A frame already serialized (by another broker node). */
  sendText(data: string): void {
    if (this.closed) return;
    try {
      this.transport.send(data);
    } catch {
      // as in send
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.transport.close(code, reason);
    } catch {
      // already gone
    }
  }
}
