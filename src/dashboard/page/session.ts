// The page's own seat at the table: a WebSocket session like the CLI's (same frames, same envelopes),
// authenticated by the delegated session key from the login URL's fragment. Everything is sealed and
// opened here, in the page; the broker only carries ciphertext.
import nacl from "tweetnacl";
import { b64, utf8 } from "../../crypto/encoding.ts";
import { type Envelope, groupKey, openDirect, openGroup, sealDirect, sealGroup } from "../../crypto/envelope.ts";
import { helloSigningString } from "../../crypto/signing.ts";
import type { Priority, PushBody } from "../../messaging/frames.ts";
import type { Peer } from "../../presence/frames.ts";
import type { ClientFrame, ServerFrame, ServerFrameOf } from "../../protocol/frames.ts";
import type { MeResponse } from "../api.ts";

/** What the fragment carries for the page's session (see `claudemesh dashboard`). */
export interface SessionKeys {
  rootKey: string | null;
  sessionSecretKey: Uint8Array;
  sessionPubkey: string;
  memberPubkey: string;
  delegation: { expiresAt: number; signature: string };
}

export function sessionKeys(fragment: string | null): SessionKeys | null {
  const f = new URLSearchParams(fragment ?? "");
  const sk = f.get("sk");
  const pk = f.get("pk");
  const expiresAt = Number(f.get("dexp"));
  const signature = f.get("dsig");
  if (!sk || !pk || !signature || !Number.isSafeInteger(expiresAt)) return null;
  const secret = b64.decode(sk);
  if (secret.length !== nacl.sign.secretKeyLength) return null;
  return {
    rootKey: f.get("root"),
    sessionSecretKey: secret,
    // a tweetnacl secret key is seed ‖ public key
    sessionPubkey: b64.encode(secret.subarray(32)),
    memberPubkey: pk,
    delegation: { expiresAt, signature },
  };
}

export interface ChatMessage {
  id: string;
  direction: "in" | "out";
  /** sender's session name (in) or the targets as written (out) */
  from: string;
  to: string;
  text: string;
  at: number;
  priority: Priority;
  /** false when an incoming envelope did not open */
  authenticated: boolean;
  /** out: the names the broker routed to */
  recipients?: string[];
}

export type SessionState =
  | { kind: "connecting" }
  | { kind: "online"; name: string }
  | { kind: "ended"; message: string }
  | { kind: "offline"; message: string };

const isGroupTarget = (t: string) => t.startsWith("@") || t === "*";
// Closes after which reconnecting is pointless: authentication refused, revoked or expired.
const FINAL_CLOSES = new Set([4001, 4003]);

type Pending = { expect: string; resolve: (f: ServerFrame) => void; reject: (e: Error) => void };

export class MeshSession {
  state: SessionState = { kind: "connecting" };
  readonly messages: ChatMessage[] = [];
  peers: Peer[] = [];
  private ws: WebSocket | null = null;
  private seq = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly seen = new Set<string>();
  private readonly groupKey: Uint8Array | null;
  private lastError = "";
  private retries = 0;

  constructor(
    private readonly me: MeResponse,
    private readonly keys: SessionKeys,
    /** called whenever state, peers or messages change */
    private readonly changed: () => void,
  ) {
    this.groupKey = keys.rootKey ? groupKey(keys.rootKey) : null;
  }

  /** The page's name in the mesh: the member's, marked as the human at the keyboard. */
  get displayName(): string {
    return `${this.me.memberName.slice(0, 56)} (human)`;
  }

  start(): void {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
    this.ws = ws;
    ws.onmessage = (e) => this.onFrame(JSON.parse(String(e.data)) as ServerFrame);
    ws.onclose = (e) => {
      this.ws = null;
      for (const p of this.pending.values()) p.reject(new Error("connection lost"));
      this.pending.clear();
      if (FINAL_CLOSES.has(e.code)) {
        this.setState({ kind: "ended", message: this.lastError || "the broker ended this session" });
        return;
      }
      // Full jitter, capped: many open tabs after a broker restart do not come back in lockstep.
      const wait = Math.random() * Math.min(30_000, 500 * 2 ** this.retries++);
      this.setState({ kind: "offline", message: "connection lost; reconnecting…" });
      setTimeout(() => this.start(), wait);
    };
  }

  private setState(s: SessionState): void {
    this.state = s;
    this.changed();
  }

  private send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws?.send(JSON.stringify(frame));
  }

  private request<T extends ServerFrame["type"]>(frame: Record<string, unknown>, expect: T): Promise<ServerFrameOf<T>> {
    const id = `p${++this.seq}`;
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return reject(new Error("not connected to the broker"));
      this.pending.set(id, { expect, resolve: resolve as (f: ServerFrame) => void, reject });
      this.send({ ...frame, id });
    });
  }

  private onFrame(f: ServerFrame): void {
    const id = "id" in f ? f.id : undefined;
    const waiting = id === undefined ? undefined : this.pending.get(id);
    if (waiting && id !== undefined) {
      this.pending.delete(id);
      if (f.type === "error") waiting.reject(new Error(f.message));
      else if (f.type === waiting.expect) waiting.resolve(f);
      else waiting.reject(new Error(`unexpected answer ${f.type}`));
      return;
    }
    switch (f.type) {
      case "challenge":
        return this.hello(f.challenge);
      case "hello_ack":
        this.retries = 0;
        this.setState({ kind: "online", name: f.displayName });
        // Anything queued while the page was away (low priority included) arrives now.
        this.send({ type: "fetch_queued", id: "queued" });
        void this.refreshPeers();
        return;
      case "queued_messages":
        return this.accept(f.messages);
      case "push": {
        const { type: _t, ...body } = f;
        this.accept([body]);
        if (f.lowPending > 0) this.send({ type: "fetch_queued", id: "queued" });
        return;
      }
      case "error":
        this.lastError = f.message;
        if (id === "hello") this.setState({ kind: "ended", message: f.message });
        return;
    }
  }

  private hello(challenge: string): void {
    const unsigned = {
      type: "hello" as const,
      id: "hello",
      challenge,
      meshId: this.me.meshId,
      memberId: this.me.memberId,
      pubkey: this.keys.memberPubkey,
      sessionPubkey: this.keys.sessionPubkey,
      timestamp: Date.now(),
      displayName: this.displayName,
    };
    const signed = utf8.encode(helloSigningString(unsigned));
    this.send({ ...unsigned, delegation: this.keys.delegation, sessionSignature: b64.encode(nacl.sign.detached(signed, this.keys.sessionSecretKey)) });
  }

  async refreshPeers(): Promise<Peer[]> {
    const list = await this.request({ type: "list_peers" }, "peers_list");
    this.peers = list.peers;
    this.changed();
    return this.peers;
  }

  private open(p: PushBody): { text: string; authenticated: boolean } {
    const env: Envelope = { nonce: p.nonce, ciphertext: p.ciphertext };
    const secret = b64.encode(this.keys.sessionSecretKey);
    const text = p.kind === "group" ? (this.groupKey ? openGroup(env, this.groupKey) : null) : openDirect(env, p.senderPubkey, secret);
    return text === null ? { text: "[this message could not be decrypted in this page]", authenticated: false } : { text, authenticated: true };
  }

  private accept(bodies: PushBody[]): void {
    if (bodies.length === 0) return;
    const ids = bodies.map((b) => b.messageId);
    // Received by this client, and shown to the human at once: both receipts go out, as a client's do.
    this.send({ type: "received", messageIds: ids });
    this.send({ type: "surfaced", messageIds: ids });
    for (const b of bodies) {
      if (this.seen.has(b.messageId)) continue;
      this.seen.add(b.messageId);
      const { text, authenticated } = this.open(b);
      this.messages.push({ id: b.messageId, direction: "in", from: b.senderName, to: b.to, text, at: b.createdAt, priority: b.priority, authenticated });
    }
    this.changed();
  }

  /** Seals `text` for `to` (a name, @group or *) in this page and sends it; resolves once the broker stored it. */
  async sendMessage(to: string, text: string, priority: Priority): Promise<void> {
    const clientId = `dash_${b64.encode(nacl.randomBytes(12)).replace(/[+/=]/g, "")}`;
    let body: Record<string, unknown>;
    if (isGroupTarget(to)) {
      if (!this.groupKey) throw new Error("the login link carried no mesh root key, so group messages cannot be sealed here");
      body = { kind: "group", group: sealGroup(text, this.groupKey) };
    } else {
      const secret = b64.encode(this.keys.sessionSecretKey);
      const sessions = (await this.refreshPeers()).filter((p) => p.name === to);
      if (sessions.length === 0) throw new Error(`no connected peer is called "${to}"`);
      body = { kind: "direct", envelopes: sessions.map((p) => ({ sessionPubkey: p.sessionPubkey, ...sealDirect(text, p.sessionPubkey, secret) })) };
    }
    const ack = await this.request({ type: "send", clientId, to, priority, ...body }, "ack");
    this.messages.push({
      id: ack.messageId,
      direction: "out",
      from: this.displayName,
      to,
      text,
      at: Date.now(),
      priority,
      authenticated: true,
      recipients: ack.recipients.map((r) => r.name),
    });
    this.changed();
  }
}
