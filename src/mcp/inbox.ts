import type { InboundMessage, Messenger } from "../messaging/messenger.ts";
import { log } from "../util/log.ts";

type MessageSource = Pick<Messenger, "on" | "drain" | "markSurfaced">;

/**
 * Decides which messages reach Claude and how, so that each one does so exactly once: pushed into the
 * conversation as soon as it arrives, or handed out by check_messages, never both.
 *
 * A message is *in flight* from the moment its push starts until the Messenger has it marked surfaced,
 * so a check_messages that runs meanwhile cannot return it too; a failed push leaves it for
 * check_messages. Once surfaced, the Messenger never hands a message out again.
 */
export class Inbox {
  private readonly inflight = new Set<string>();
  /** Pushes that arrived before the MCP client finished initializing. */
  private readonly early: InboundMessage[] = [];
  private ready = false;

  constructor(
    private readonly source: MessageSource,
    /** Writes the channel notification; resolves true once it is on its way to Claude Code. */
    private readonly push: (m: InboundMessage) => Promise<boolean>,
  ) {
    source.on("message", (m) => this.onMessage(m));
  }

  /** The MCP client is initialized: notifications sent from now on are seen. */
  start(): void {
    this.ready = true;
    for (const m of this.early.splice(0)) this.onMessage(m);
  }

  private onMessage(m: InboundMessage): void {
    // `low` never starts a turn by itself (DESIGN.md "Priority"): it waits for check_messages.
    if (m.priority === "low" || this.inflight.has(m.messageId)) return;
    if (!this.ready) {
      this.early.push(m);
      return;
    }
    this.inflight.add(m.messageId);
    void this.push(m)
      .catch((err) => {
        log.warn("channel push failed", { messageId: m.messageId, error: String(err) });
        return false;
      })
      .then((ok) => {
        if (ok) this.source.markSurfaced([m.messageId]);
        this.inflight.delete(m.messageId);
      });
  }

  /**
   * What has not been shown to Claude yet (pushed or not), oldest first, marked surfaced; nothing is ever
   * returned twice. `page.maxChars` asks the broker for about that much of its queue (all without it);
   * `page.take` says how many of the messages to hand out now (at least one is). The rest wait for the
   * next call, so a tool result can stay within what Claude Code shows whole; `left` counts them.
   */
  async check(page: { maxChars?: number; take?: (fresh: InboundMessage[]) => number } = {}): Promise<{ messages: InboundMessage[]; left: number }> {
    const drained = await this.source.drain(page.maxChars);
    const fresh = drained.messages.filter((m) => !this.inflight.has(m.messageId));
    if (fresh.length === 0) return { messages: fresh, left: drained.more };
    const messages = fresh.slice(0, Math.max(1, page.take?.(fresh) ?? fresh.length));
    const ids = new Set(messages.map((m) => m.messageId));
    this.source.markSurfaced([...ids]);
    // Not yet pushed because the client was still initializing: it has been shown now.
    for (let i = this.early.length - 1; i >= 0; i--) if (ids.has((this.early[i] as InboundMessage).messageId)) this.early.splice(i, 1);
    return { messages, left: fresh.length - messages.length + drained.more };
  }
}
