import type { InboundMessage } from "./messenger.ts";

/**
 * Claude Code wraps the content in `<channel source=… from_name=…>…</channel>`. A peer could otherwise
 * close that tag and forge a second one with another sender's name, so tag look-alikes are defused.
 */
export function defuseChannelTags(text: string): string {
  return text.replace(/<(\/?)(channel)/gi, "‹$1$2");
}

/** The readable form of a message, used both for pushes and for check_messages. */
export function messageText(m: InboundMessage): string {
  const lines = [defuseChannelTags(m.text)];
  if (!m.authenticated) lines.push("[warning: this message could not be decrypted and verified; its sender and text are unconfirmed]");
  return lines.join("\n");
}
