import type { z } from "zod";
import type { InboundMessage } from "../messaging/messenger.ts";
import { defuseChannelTags, messageText } from "../messaging/text.ts";
import type { StateChangeFrame } from "../state/frames.ts";
import { printable } from "../util/printable.ts";

/** What Claude Code accepts as `notifications/claude/channel` params. */
export interface ChannelEvent {
  content: string;
  meta: Record<string, string>;
}

export const CHANNEL_METHOD = "notifications/claude/channel";

const META_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Claude Code drops the whole event when a meta key is not an identifier or a value is not a string,
 * so everything is coerced here: keys are cleaned up, null/undefined are left out, the rest stringified.
 */
export function channelMeta(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawKey, v] of Object.entries(fields)) {
    if (v === undefined || v === null) continue;
    let key = rawKey.replace(/[^A-Za-z0-9_]/g, "_");
    if (!META_KEY.test(key)) key = `_${key}`;
    // Values come from other members (names, targets, keys): shown, never performed by a terminal.
    out[key] = printable(typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v));
  }
  return out;
}

const lowNote = (n: number) => `(${n} low-priority message${n === 1 ? "" : "s"} waiting: call check_messages when convenient)`;

/** A display name or group as a JSON string literal, the way the model writes a tool argument. */
const arg = (s: string) => JSON.stringify(s);

/**
 * The last line of every pushed message: how to answer it. A turn started by a push may be the first the
 * model ever sees, and since Claude Code 2.1.251 such a request carries neither the MCP instructions nor
 * the list of deferred tools, so the message itself must say which tool and which `to` reach the sender.
 */
export function replyHint(m: Pick<InboundMessage, "fromName" | "kind" | "to">): string {
  const direct = `send_message(to: ${arg(m.fromName)})`;
  if (m.kind !== "group") return `↩ reply with claudemesh's ${direct}`;
  // The targets as the sender wrote them: the first group named is the one to answer in public.
  const group = m.to
    .split(",")
    .map((t) => t.trim())
    .find((t) => t.startsWith("@") || t === "*");
  const all = group === "*" || group === "@all";
  const toGroup = group && !all ? ` or the whole group with send_message(to: ${arg(group)})` : "";
  return `↩ ${all ? "sent to everyone; " : ""}reply to the sender with claudemesh's ${direct}${toGroup}`;
}

export function messageEvent(m: InboundMessage, mesh: string): ChannelEvent {
  const lines = [messageText(m)];
  if (m.lowPending > 0) lines.push(lowNote(m.lowPending));
  lines.push(defuseChannelTags(replyHint(m)));
  return {
    content: printable(lines.join("\n"), { keepLines: true }),
    meta: channelMeta({
      from_name: m.fromName,
      from_member: m.fromMemberName,
      from_session: m.fromSession,
      priority: m.priority,
      message_id: m.messageId,
      mesh,
      kind: m.kind,
      to: m.to,
      sent_at: new Date(m.createdAt).toISOString(),
      ...(m.authenticated ? {} : { unverified: "true" }),
    }),
  };
}

/** A shared-state change pushed by the broker; `updatedBy` is the writer's display name. */
export type StateChange = Pick<z.infer<typeof StateChangeFrame>, "key" | "value" | "updatedBy">;

const MAX_STATE_PREVIEW = 2000;

export function stateChangeEvent(c: StateChange, mesh: string): ChannelEvent {
  const who = c.updatedBy;
  let value = c.value === undefined ? "null" : JSON.stringify(c.value);
  if (value.length > MAX_STATE_PREVIEW) value = `${value.slice(0, MAX_STATE_PREVIEW)}… (truncated; get_state("${c.key}") for all of it)`;
  return {
    content: printable(
      defuseChannelTags(`Shared state "${c.key}" was set by ${who} to: ${value}\n(a shared-state change on the mesh, not a message: no reply needed)`),
      {
        keepLines: true,
      },
    ),
    meta: channelMeta({ kind: "state_change", key: c.key, from_name: who, mesh }),
  };
}
