import { z } from "zod";
import { defineTool, type McpTool } from "../client/tool.ts";
import { bareGroup, GroupArg } from "../groups/frames.ts";
import { Status } from "../protocol/common.ts";
import type { Peer } from "./frames.ts";

/** One readable line per peer: what Claude needs to decide whom to address. */
export function peerLine(p: Peer): string {
  const who = p.memberName === p.name ? p.name : `${p.name} (member ${p.memberName})`;
  const parts = [`${who}${p.self ? " (you)" : ""}`, p.status];
  if (p.role) parts.push(`role: ${p.role}`);
  if (p.groups.length) parts.push(p.groups.map((g) => `@${g.name}${g.role ? ` (${g.role})` : ""}`).join(", "));
  if (p.summary) parts.push(`"${p.summary}"`);
  return `- ${parts.join(" · ")}`;
}

const listPeers = defineTool({
  name: "list_peers",
  description:
    "List the peers (Claude Code sessions) connected to this mesh, with status (idle/working/dnd), role, groups with their roles, and summary. Optionally only the members of one group.",
  input: { group: GroupArg.optional().describe('Only peers in this group, e.g. "frontend"') },
  async run(ctx, args) {
    const group = args.group === undefined ? undefined : bareGroup(args.group);
    const res = await ctx.client.request({ type: "list_peers", ...(group ? { group } : {}) }, "peers_list");
    const peers = res.peers.map(({ name, status, role, groups, summary, sessionPubkey, memberId, memberName, self }) => ({
      name,
      status,
      role,
      groups,
      summary,
      sessionPubkey,
      memberId,
      memberName,
      self,
    }));
    const scope = group ? ` in @${group}` : "";
    const text =
      peers.length === 0
        ? `No peers online${scope}.`
        : `${peers.length} peer${peers.length === 1 ? "" : "s"} online${scope}:\n${res.peers.map(peerLine).join("\n")}`;
    return { text, data: { peers } };
  },
});

const setSummary = defineTool({
  name: "set_summary",
  description: "Set your 1-2 sentence summary of what you are working on, shown to every peer in list_peers. Update it when your focus changes.",
  input: { summary: z.string().max(1000).describe('e.g. "Fixing the token refresh race in src/auth/session.ts"') },
  async run(ctx, args) {
    const summary = args.summary.trim();
    await ctx.client.request({ type: "set_summary", summary }, "ok");
    return { text: summary ? `Summary set: "${summary}"` : "Summary cleared.", data: { summary: summary || null } };
  },
});

const setStatus = defineTool({
  name: "set_status",
  description:
    'Override your status: idle, working or dnd. Status normally follows your turns by itself; dnd (do not disturb) holds every message except priority "now" until you set idle or working.',
  input: { status: Status.describe("idle | working | dnd") },
  async run(ctx, args) {
    await ctx.client.request({ type: "set_status", status: args.status }, "ok");
    return { text: `Status set to ${args.status}.`, data: { status: args.status } };
  },
});

export const presenceTools: McpTool[] = [listPeers, setSummary, setStatus];
