import type { GroupMembership } from "../protocol/common.ts";

/** Claude Code keeps the first 4096 characters of a server's instructions (2.1.332)… */
export const INSTRUCTIONS_MAX_BYTES = 4096;
/**
 * …but only the first 2048 on older releases (2.1.197, the oldest supported). Everything a session needs
 * to work on the mesh comes first and fits in these; only the rest of the tool guide goes beyond.
 */
export const INSTRUCTIONS_ESSENTIAL_BYTES = 2048;

export interface InstructionsInput {
  displayName: string;
  meshSlug: string;
  role: string | null;
  groups: GroupMembership[];
  /** names of the tools actually registered: lines for missing tools are left out */
  tools: ReadonlySet<string>;
  /** where `install` puts CLAUDEMESH.md (default ~/.claudemesh/CLAUDEMESH.md) */
  guidePath?: string;
}

/** Tool guide lines, each shown only when all its tools exist. Order = importance, since the tail may be cut. */
const TOOL_LINES: [string[], string][] = [
  [
    ["send_message", "list_peers"],
    "Mesh peers are reached only with these claudemesh tools (mcp__claudemesh__*). Claude Code's own SendMessage / ListAgents reach other Claude sessions on this machine only, outside the mesh (no mesh names, groups, encryption or queue): never use them for mesh peers.",
  ],
  [
    ["send_message"],
    '- send_message(to, message, priority?): to = "Name", "@group", "*" (everyone) or a list. Prefer direct or @group; broadcast rarely. Different audiences need different details? Send each @group its own tailored message instead of one broadcast.',
  ],
  [
    ["send_message"],
    '- priority: "now" = urgent only (interrupts a busy peer), "next" = normal (default; arrives when they are idle), "low" = FYI (waits until they check).',
  ],
  [["check_messages"], "- check_messages(): messages not yet shown to you, incl. low priority. Call it when told some are waiting."],
  [["list_peers"], "- list_peers(group?): who is online, status, role, groups, summary. Look before you delegate."],
  [["message_status"], "- message_status(id): per-recipient delivery: queued, delivered, surfaced (seen)."],
  [["set_summary"], "- set_summary(summary): 1-2 sentences on what you are doing; update it when your focus changes."],
  [["set_status"], "- set_status(status): idle | working | dnd. dnd holds everything but urgent messages."],
  [
    ["join_group", "leave_group"],
    "- join_group(name, role?) / leave_group(name). Roles: lead gathers inputs and synthesizes, member contributes, observer watches and speaks only when asked.",
  ],
  [
    ["set_state", "get_state", "list_state"],
    "- set_state(key, value) / get_state(key) / list_state(): live shared facts (current owner, status, votes); every change is pushed to all peers.",
  ],
  [
    ["remember", "recall", "forget"],
    "- remember(content, tags?) / recall(query) / forget(id): lasting mesh knowledge (decisions, conventions, gotchas). recall before asking peers.",
  ],
  [
    ["share_file", "get_file", "list_files", "file_status", "delete_file"],
    "- share_file(path, tags?) for the whole mesh; send_message(…, file?/files?) for its recipients only; list_files(query?), get_file(id, save_to), file_status(id), delete_file(id). Files are not E2E encrypted.",
  ],
];

/** Keeps a dynamic field from pushing the essentials past the 2 KB cut. */
const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

function identityLine(i: InstructionsInput): string {
  const groups = i.groups.map((g) => `@${g.name}${g.role ? ` (${g.role})` : ""}`).join(", ");
  const parts = [`You are "${clip(i.displayName, 64)}" on the claudemesh mesh "${clip(i.meshSlug, 64)}"`];
  if (i.role) parts.push(`role: ${clip(i.role, 64)}`);
  parts.push(`groups: ${groups ? clip(groups, 200) : "none yet"}`);
  return `${parts.join("; ")}.`;
}

/**
 * The MCP `instructions`: who this session is plus a compact tool guide. CLAUDEMESH.md has the long form.
 * Always within INSTRUCTIONS_MAX_BYTES; identity, how to answer a peer, which tools reach the mesh and the
 * core messaging tools come first, within INSTRUCTIONS_ESSENTIAL_BYTES (tested).
 */
export function buildInstructions(i: InstructionsInput): string {
  const lines = [
    identityLine(i),
    'Peers are other Claude Code sessions, your equals. Their messages arrive as <channel source="claudemesh" from_name=… kind=direct|group to=…>: reply with send_message to that from_name (a display name), on topic and brief; not every FYI needs an answer. kind=state_change is a shared-state update, not a message.',
    ...TOOL_LINES.filter(([names]) => names.every((n) => i.tools.has(n))).map(([, line]) => line),
    `Full guide: ${clip(i.guidePath ?? "~/.claudemesh/CLAUDEMESH.md", 200)}`,
  ];
  return fitBytes(lines.join("\n"), INSTRUCTIONS_MAX_BYTES);
}

/** Cuts at the last whole line that fits (never inside a multi-byte character). */
function fitBytes(text: string, max: number): string {
  const enc = new TextEncoder();
  if (enc.encode(text).length <= max) return text;
  const lines = text.split("\n");
  while (lines.length > 1 && enc.encode(lines.join("\n")).length > max) lines.pop();
  let out = lines.join("\n");
  while (enc.encode(out).length > max) out = out.slice(0, -1);
  return out;
}

/** Used when the server cannot join a mesh: the tools still exist and explain what is wrong. */
export function unavailableInstructions(reason: string): string {
  return fitBytes(
    `claudemesh (a peer mesh for Claude Code sessions) is not connected: ${clip(reason, 600)}\nIts tools answer with this error until it is fixed; mention it to the user only if they ask about peers or the mesh.`,
    INSTRUCTIONS_MAX_BYTES,
  );
}
