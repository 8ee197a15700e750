import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type FilesContext, fileTools } from "../files/tools.ts";
import { groupTools } from "../groups/tools.ts";
import { groupsTracker } from "../groups/tracker.ts";
import { type MessagingContext, messagingTools } from "../messaging/tools.ts";
import { memoryTools } from "../memory/tools.ts";
import { presenceTools } from "../presence/tools.ts";
import { presenceTracker } from "../presence/tracker.ts";
import { stateTools } from "../state/tools.ts";
import { errorText } from "../protocol/wire-error.ts";
import type { McpTool, ToolResult } from "../client/tool.ts";
import type { SessionTracker } from "../client/broker-client.ts";
import { printable, printableDeep } from "../util/printable.ts";

/** Everything any tool may use; each feature's tools declare the part they need. */
export type McpContext = MessagingContext & FilesContext;
/** Tools differ in input shape; the SDK validates each call against the tool's own schema. */
export type AnyTool = McpTool<any, McpContext>;

/** Every feature's tools, in the order clients list them. A feature adds its array here. */
const TOOL_SETS: readonly (readonly AnyTool[])[] = [messagingTools, presenceTools, groupTools, stateTools, memoryTools, fileTools];

/** Every feature whose session state a reconnect restores. A feature adds its tracker here. */
export const SESSION_TRACKERS: readonly SessionTracker[] = [groupsTracker, presenceTracker];

export function allTools(): AnyTool[] {
  const tools = TOOL_SETS.flat();
  const seen = new Set<string>();
  for (const t of tools) {
    if (seen.has(t.name)) throw new Error(`two MCP tools are named ${t.name}`);
    seen.add(t.name);
  }
  return tools;
}

/**
 * Claude Code shows the model only `structuredContent` when a result has it (the text block is dropped),
 * so the readable text travels inside it as `text`, followed by the structured fields. A result longer
 * than `maxChars` (what Claude Code shows whole, `resultChars`) keeps its text only: the fields repeat
 * what the text says, and without them twice as much fits (list_peers in a big mesh, say).
 */
export function toCallResult(r: ToolResult, maxChars = Number.POSITIVE_INFINITY): CallToolResult {
  // Names and texts come from other members; escape sequences and bidi tricks are shown, never performed.
  const text = printable(r.text, { keepLines: true });
  const content: CallToolResult["content"] = [{ type: "text", text }];
  if (r.isError) return { content, isError: true };
  if (r.data === undefined) return { content };
  const safe = printableDeep(r.data, { keepLines: true });
  const data = safe !== null && typeof safe === "object" && !Array.isArray(safe) ? (safe as Record<string, unknown>) : { result: safe };
  const structured = { text, ...data };
  return { content, structuredContent: JSON.stringify(structured).length > maxChars ? { text } : structured };
}

/**
 * How many characters of a tool result Claude Code shows whole. 2.1.332 estimates a result at a token per
 * 4 characters, keeps one over its limit (MAX_MCP_OUTPUT_TOKENS, default 25,000 tokens) from the model
 * (saved to a file instead) and never looks closer at one estimated at half the limit or less: so
 * 2 × limit characters always arrive whole, whatever the script. A fifth is kept in hand for what the
 * estimate of a result and its text differ by (docs/CLAUDE-CODE.md).
 */
export function resultChars(env: Record<string, string | undefined> = process.env): number {
  const set = env.MAX_MCP_OUTPUT_TOKENS;
  const limit = set !== undefined && /^\d{1,9}$/.test(set) && Number(set) > 0 ? Number(set) : 25_000;
  return Math.floor(limit * 2 * 0.8);
}

/** Errors become results the model can read and act on, never protocol failures. */
export function errorResult(err: unknown): CallToolResult {
  const text = printable(errorText(err), { keepLines: true });
  return { content: [{ type: "text", text }], isError: true };
}

/**
 * The tools a peer needs to answer a pushed message. Claude Code's tool search defers MCP tools (the model
 * sees only their names, and in a turn started by a push not even those, since 2.1.251); these three stay
 * in every request, so a model woken by a message can always reply. The rest stay deferred: see
 * docs/DECISIONS.md for the token trade-off.
 */
export const ALWAYS_LOADED: ReadonlySet<string> = new Set(["send_message", "check_messages", "list_peers"]);
/** Claude Code reads this `_meta` key on a listed tool (2.1.197 and later). */
export const ALWAYS_LOAD_META = "anthropic/alwaysLoad";

/** Registers the tools; `context` throws (an error explaining why) while the mesh is unavailable. */
export function registerTools(server: McpServer, tools: readonly AnyTool[], context: () => McpContext): void {
  for (const tool of tools) {
    const meta = ALWAYS_LOADED.has(tool.name) ? { _meta: { [ALWAYS_LOAD_META]: true } } : {};
    server.registerTool(tool.name, { description: tool.description, inputSchema: tool.input, ...meta }, async (args: unknown) => {
      try {
        const ctx = context();
        return toCallResult(await tool.run(ctx, args as never), ctx.resultChars);
      } catch (err) {
        return errorResult(err);
      }
    });
  }
}
