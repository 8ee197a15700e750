import { z } from "zod";
import { attachmentLine, LocalPath } from "../files/api.ts";
import { defineTool, type McpTool, type ToolContext } from "../client/tool.ts";
import { MessageId, Priority } from "./frames.ts";
import type { InboundMessage, Messenger } from "./messenger.ts";
import { messageText } from "./text.ts";
import { printable } from "../util/printable.ts";
import { fitCount } from "../util/size.ts";

/** What the messaging tools need beyond the connection: the Messenger and the MCP server's inbox. */
export interface MessagingContext extends ToolContext {
  messenger: Pick<Messenger, "send" | "status">;
  /** Messages not yet shown to Claude, each returned once, as many as `take` says (src/mcp/inbox.ts). */
  inbox: { check(page?: { maxChars?: number; take?: (fresh: InboundMessage[]) => number }): Promise<{ messages: InboundMessage[]; left: number }> };
  /** How many characters of a tool result the MCP client shows whole (src/mcp/registry.ts). */
  resultChars: number;
}

/**
 * Targets as the model writes them: a string, a list, a JSON-encoded list, or "Alice, @backend".
 * Commas can appear in no display name or group name, so splitting on them is safe.
 */
export function parseTargets(to: string | string[]): string | string[] {
  let list: string[] = Array.isArray(to) ? to : [to];
  if (!Array.isArray(to)) {
    const s = to.trim();
    let parsed: unknown = null;
    if (s.startsWith("[")) {
      try {
        parsed = JSON.parse(s);
      } catch {
        // not JSON: treat as text
      }
    }
    list = Array.isArray(parsed) && parsed.every((x) => typeof x === "string") ? parsed : s.split(",");
  }
  const out = [...new Set(list.map((t) => t.trim()).filter(Boolean))];
  return out.length === 1 ? (out[0] as string) : out;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An uploaded attachment, as the file routes describe it. */
interface Attached {
  id: string;
  name: string;
  size: number;
}

/** The file routes as send_message needs them (the files feature's client provides them). */
export interface FilesContext {
  files: { upload(path: string, opts: { to: string | string[] }): Promise<Attached>; remove(id: string): Promise<unknown> };
}

/** Uploads each path as an attachment for `to`; on any failure the ones already stored are deleted. */
async function attach(ctx: FilesContext, to: string | string[], paths: string[]): Promise<Attached[]> {
  const done: Attached[] = [];
  try {
    for (const p of paths) done.push(await ctx.files.upload(p, { to }));
    return done;
  } catch (err) {
    await discard(ctx, done);
    throw err;
  }
}

const discard = (ctx: FilesContext, files: Attached[]) => Promise.all(files.map((f) => ctx.files.remove(f.id).catch(() => {})));

const sendMessage = defineTool({
  name: "send_message",
  description:
    'Send a message to peers. to: a display name ("Alice"), a group ("@frontend"), everyone ("*" or "@all"), or a list of these; each peer gets it once. priority: "now" = urgent only (interrupts busy peers), "next" = normal (default; delivered when the peer is idle), "low" = FYI (waits until the peer checks). ' +
    "file / files attach local files that only this message's recipients can download (for 24 hours); each appears in the message as a 📎 line with its get_file id.",
  input: {
    to: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(64)]).describe('"Alice", "@frontend", "*", or ["Alice", "@backend"]'),
    message: z.string().min(1).max(100_000),
    priority: Priority.optional().describe('"now" | "next" (default) | "low"'),
    file: LocalPath.optional().describe('Attach one local file, e.g. "/tmp/screenshot.png"'),
    files: z.array(LocalPath).max(16).optional().describe('Attach several local files, e.g. ["/tmp/api.ts", "/tmp/test.ts"]'),
  },
  async run(ctx: MessagingContext & FilesContext, args) {
    const to = parseTargets(args.to);
    const priority = args.priority ?? "next";
    // Uploaded first, for the same targets: the broker lets exactly their members (and ours) read them.
    const attached = await attach(ctx, to, [...(args.file ? [args.file] : []), ...(args.files ?? [])]);
    const text = attached.length ? `${args.message}\n${attached.map(attachmentLine).join("\n")}` : args.message;
    let res: Awaited<ReturnType<MessagingContext["messenger"]["send"]>>;
    try {
      res = await ctx.messenger.send(to, text, priority);
    } catch (err) {
      await discard(ctx, attached);
      throw err;
    }
    const names = res.recipients.map((r) => r.name);
    const who = names.length === 1 ? names[0] : `${names.length} peers (${[...new Set(names)].join(", ")})`;
    const files = attached.map((f) => ({ id: f.id, name: f.name, size: f.size }));
    return {
      text: `Sent ${res.messageId} to ${who}, priority ${priority}.${files.length ? ` Attached: ${attached.map((f) => `${f.name} (${f.id})`).join(", ")}.` : ""}${res.duplicate ? " (already sent before; not sent again)" : ""}`,
      data: { messageId: res.messageId, to, priority, recipients: res.recipients, duplicate: res.duplicate, ...(files.length ? { files } : {}) },
    };
  },
});

function messageBlock(m: InboundMessage): string {
  const who = m.fromMemberName === m.fromName ? m.fromName : `${m.fromName} (member ${m.fromMemberName})`;
  const head = [`from ${who}`, m.kind === "group" ? `to ${m.to}` : "direct", m.priority, iso(m.createdAt), m.messageId];
  return `--- ${head.join(" · ")}\n${messageText(m)}`;
}

const checkedItem = (m: InboundMessage) => ({
  messageId: m.messageId,
  fromName: m.fromName,
  fromMemberName: m.fromMemberName,
  fromSession: m.fromSession,
  kind: m.kind,
  to: m.to,
  priority: m.priority,
  createdAt: iso(m.createdAt),
  authenticated: m.authenticated,
});

/** What one message adds to check_messages' result as the client sees it: its block, and its item as JSON. */
const checkedSize = (m: InboundMessage) => JSON.stringify(printable(messageBlock(m), { keepLines: true })).length + JSON.stringify(checkedItem(m)).length + 2;

/** Room for the result's own lines ("N new messages:", "N more waiting …") and its JSON around the messages. */
const CHECK_OVERHEAD_CHARS = 200;

const checkMessages = defineTool({
  name: "check_messages",
  description:
    "Fetch every peer message not yet shown to you, including low-priority ones that never interrupt. Messages already shown (pushed into the conversation or returned here before) are never returned again. " +
    "A long backlog comes in parts: when the result says more are waiting, call it again.",
  input: {},
  async run(ctx: MessagingContext) {
    // Oldest first, as many as the client shows whole: a result it cut would hide messages marked shown.
    // The broker's page is counted in its own JSON, which is close in size to ours (a ciphertext is a third
    // longer than its text; our blocks and fields carry more words around it): what does not fit waits.
    const { messages, left } = await ctx.inbox.check({
      maxChars: ctx.resultChars,
      take: (fresh) => fitCount(fresh, ctx.resultChars - CHECK_OVERHEAD_CHARS, checkedSize),
    });
    // Each message's text is in its block only: the items carry what a block says in words, as fields.
    const data = { messages: messages.map(checkedItem), more: left };
    if (messages.length === 0) return { text: "No new messages.", data };
    const n = messages.length;
    const more = left ? `\n(${left} more message${left === 1 ? "" : "s"} waiting: call check_messages again to read them)` : "";
    return { text: `${n} new message${n === 1 ? "" : "s"}:\n${messages.map(messageBlock).join("\n")}${more}`, data };
  },
});

const messageStatus = defineTool({
  name: "message_status",
  description:
    "Delivery status of a message you sent, per recipient: queued (not yet at their session), delivered (their session has it), surfaced (shown to their Claude), or expired.",
  input: { id: MessageId.describe("The message id send_message returned (msg_…)") },
  async run(ctx: MessagingContext, args) {
    const res = await ctx.messenger.status(args.id);
    const recipients = res.recipients.map((r) => ({
      name: r.name,
      sessionPubkey: r.sessionPubkey,
      status: r.status,
      queuedAt: iso(r.queuedAt),
      deliveredAt: iso(r.deliveredAt),
      surfacedAt: iso(r.surfacedAt),
      expiredAt: iso(r.expiredAt),
    }));
    const lines = recipients.map((r) => {
      const at = r.status === "surfaced" ? r.surfacedAt : r.status === "delivered" ? r.deliveredAt : r.status === "expired" ? r.expiredAt : r.queuedAt;
      return `- ${r.name}: ${r.status}${at ? ` since ${at}` : ""}`;
    });
    const n = recipients.length;
    const head = `${res.messageId}: ${res.delivered ? "delivered to" : "not yet delivered to all of"} ${n} recipient${n === 1 ? "" : "s"}`;
    return { text: `${head}\n${lines.join("\n")}`, data: { messageId: res.messageId, delivered: res.delivered, recipients } };
  },
});

export const messagingTools: McpTool<any, MessagingContext & FilesContext>[] = [sendMessage, checkMessages, messageStatus];
