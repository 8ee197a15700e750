import type { BrokerClient } from "../client/broker-client.ts";
import { decodeFallback, type Envelope, groupKey, openDirect, openGroup, sealDirect, sealGroup } from "../crypto/envelope.ts";
import type { ServerFrameOf } from "../protocol/frames.ts";
import { WireError } from "../protocol/wire-error.ts";
import { ConfigError, ConnectionLost, InvalidArgument } from "../util/errors.ts";
import { newSortableId } from "../util/ids.ts";
import { retry } from "../util/retry.ts";
import { Emitter } from "../client/emitter.ts";
import { type MessageKind, type Priority, type PushBody, RECEIPT_IDS } from "./frames.ts";
import { PeerCache } from "./peer-cache.ts";
import { isGroupTarget } from "./targets.ts";

export interface InboundMessage {
  messageId: string;
  fromName: string;
  fromSession: string;
  fromMemberId: string;
  /** the sender's enrolled member name (its session may call itself something else) */
  fromMemberName: string;
  priority: Priority;
  createdAt: number;
  text: string;
  /** false when the envelope did not open and the spec's base64 fallback produced the text */
  authenticated: boolean;
  kind: MessageKind;
  /** the targets as the sender wrote them */
  to: string;
  /** low-priority messages waiting for check_messages */
  lowPending: number;
}

export type SendResult = Pick<ServerFrameOf<"ack">, "messageId" | "recipients" | "duplicate">;

const SEEN_LIMIT = 10_000;

/**
 * The client half of messaging: end-to-end encryption, idempotent sends, receipts, and exactly-once
 * delivery as seen by Claude (duplicate pushes of one message id are acknowledged but never re-emitted).
 */
export class Messenger extends Emitter<{ message: [InboundMessage] }> {
  readonly peers: PeerCache;
  private readonly groupKey: Uint8Array | null;
  /** every message id ever handed out (push or drain), to drop at-least-once duplicates */
  private readonly seen = new Set<string>();
  /** handed out but not yet surfaced to Claude */
  private readonly unsurfaced = new Map<string, InboundMessage>();
  /**
   * Drained but not yet shown: not reported received either, so they stay queued on the broker (a new
   * mcp process of this session gets them again) until they are shown.
   */
  private readonly unreported = new Set<string>();
  private readonly surfacedIds = new Set<string>();

  constructor(
    private readonly client: BrokerClient,
    private readonly keys: { rootKey: string | null; sessionSecretKey: string },
  ) {
    super();
    this.peers = new PeerCache(client);
    this.groupKey = keys.rootKey ? groupKey(keys.rootKey) : null;
    client.on("frame", (f) => {
      if (f.type === "push") this.onPush(f);
    });
  }

  /** Sends a message. Retries across reconnects with the same client id, so it is stored exactly once. */
  async send(to: string | string[], text: string, priority: Priority = "next"): Promise<SendResult> {
    const targets = (Array.isArray(to) ? to : [to]).map((t) => t.trim()).filter(Boolean);
    if (targets.length === 0) throw new InvalidArgument("say who to send to: a name, @group, @all or *");
    const clientId = newSortableId("cmsg");
    const group = targets.some(isGroupTarget);
    const staleCache = (err: unknown) => err instanceof WireError && err.code === "missing_envelope";
    return retry(
      async (attempt) => {
        const body = group
          ? { kind: "group" as const, group: this.sealForGroup(text) }
          : { kind: "direct" as const, envelopes: await this.sealForNames(targets, text, attempt > 0) };
        const ack = await this.client.request(
          { type: "send", clientId, to: targets.length === 1 ? (targets[0] as string) : targets, priority, ...body },
          "ack",
        );
        return { messageId: ack.messageId, recipients: ack.recipients, duplicate: ack.duplicate };
      },
      {
        attempts: 4,
        // request() itself waits for a reconnect, so these waits only keep a failing send from spinning
        baseMs: 50,
        capMs: 1_000,
        // A stale peer cache shows up as a missing envelope; a dropped connection as ConnectionLost.
        retryable: (err) => staleCache(err) || err instanceof ConnectionLost,
        onRetry: (err) => {
          if (staleCache(err)) this.peers.invalidate();
        },
      },
    );
  }

  private sealForGroup(text: string): Envelope {
    if (!this.groupKey)
      throw new ConfigError("this mesh's root key is missing from your config (re-join with the full invite URL, including the part after #)");
    return sealGroup(text, this.groupKey);
  }

  private async sealForNames(names: string[], text: string, fresh: boolean): Promise<(Envelope & { sessionPubkey: string })[]> {
    let peers = await this.peers.all(fresh);
    if (names.some((n) => !peers.some((p) => p.name === n))) peers = await this.peers.all(true);
    const sessions = new Map<string, string>();
    for (const p of peers) if (names.includes(p.name)) sessions.set(p.sessionPubkey, p.name);
    // Unknown names get no envelope; the broker then names them in its unknown_target error.
    return [...sessions.keys()].map((pub) => ({ sessionPubkey: pub, ...sealDirect(text, pub, this.keys.sessionSecretKey) }));
  }

  /** Opens an envelope; falls back to base64 (flagged unauthenticated), never silently trusted. */
  decrypt(p: PushBody): { text: string; authenticated: boolean } {
    const env = { nonce: p.nonce, ciphertext: p.ciphertext };
    const opened = p.kind === "group" ? (this.groupKey ? openGroup(env, this.groupKey) : null) : openDirect(env, p.senderPubkey, this.keys.sessionSecretKey);
    if (opened !== null) return { text: opened, authenticated: true };
    const fallback = decodeFallback(p.ciphertext);
    return { text: fallback ?? "[message could not be decrypted]", authenticated: false };
  }

  private toInbound(p: PushBody): InboundMessage {
    const { text, authenticated } = this.decrypt(p);
    return {
      messageId: p.messageId,
      fromName: p.senderName,
      fromSession: p.senderPubkey,
      fromMemberId: p.senderMemberId,
      fromMemberName: p.senderMemberName,
      priority: p.priority,
      createdAt: p.createdAt,
      text,
      authenticated,
      kind: p.kind,
      to: p.to,
      lowPending: p.lowPending,
    };
  }

  /**
   * Accepts messages from the broker; returns only those never seen before. A push (`report`) is reported
   * received at once; a drain's messages only as they are shown (markSurfaced).
   */
  private accept(bodies: PushBody[], report = true): InboundMessage[] {
    if (bodies.length === 0) return [];
    if (report) this.client.notify({ type: "received", messageIds: bodies.map((b) => b.messageId) });
    // A redelivery of something already surfaced means our earlier report was lost: report it again.
    const again = bodies.filter((b) => this.surfacedIds.has(b.messageId)).map((b) => b.messageId);
    if (again.length) this.client.notify({ type: "surfaced", messageIds: again });
    const fresh: InboundMessage[] = [];
    for (const b of bodies) {
      if (this.seen.has(b.messageId)) continue;
      this.remember(b.messageId);
      const m = this.toInbound(b);
      this.unsurfaced.set(m.messageId, m);
      if (!report) this.unreported.add(m.messageId);
      fresh.push(m);
    }
    return fresh;
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > SEEN_LIMIT) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private onPush(f: ServerFrameOf<"push">): void {
    for (const m of this.accept([f])) this.emit("message", m);
  }

  /**
   * Everything not yet surfaced: pushed but not yet shown, plus what the broker is holding (low priority,
   * `next` held while busy), or with `maxChars` its oldest page of about that size; `more` says how many
   * the broker still holds after it. The caller surfaces what it shows with markSurfaced.
   */
  async drain(maxChars?: number): Promise<{ messages: InboundMessage[]; more: number }> {
    const res = await this.client.request({ type: "fetch_queued", ...(maxChars === undefined ? {} : { maxChars }) }, "queued_messages");
    this.accept(res.messages, false);
    // Several messages share a millisecond; a broker's ids count up within one, so they break the tie.
    const messages = [...this.unsurfaced.values()].sort(
      (a, b) => a.createdAt - b.createdAt || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0),
    );
    return { messages, more: res.more ?? 0 };
  }

  /** Reports messages as shown to Claude; they are never handed out again. */
  markSurfaced(ids: string[]): void {
    const drained = ids.filter((id) => this.unreported.delete(id));
    const fresh = ids.filter((id) => this.unsurfaced.delete(id) || !this.surfacedIds.has(id));
    for (const id of ids) this.surfacedIds.add(id);
    if (this.surfacedIds.size > SEEN_LIMIT) this.surfacedIds.delete(this.surfacedIds.values().next().value as string);
    for (let i = 0; i < drained.length; i += RECEIPT_IDS) this.client.notify({ type: "received", messageIds: drained.slice(i, i + RECEIPT_IDS) });
    for (let i = 0; i < fresh.length; i += RECEIPT_IDS) this.client.notify({ type: "surfaced", messageIds: fresh.slice(i, i + RECEIPT_IDS) });
  }

  status(messageId: string): Promise<ServerFrameOf<"message_status_result">> {
    return this.client.request({ type: "message_status", messageId }, "message_status_result");
  }
}
