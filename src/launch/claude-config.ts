/**
 * What claudemesh registers in Claude Code: the `mcp` server and the status hooks. Shared by `launch`
 * (per-session files) and `install` (user-scope files), so both wire exactly the same commands.
 */

export const MCP_SERVER_NAME = "claudemesh";

/**
 * Hook event → `claudemesh hook <arg>`. SessionStart puts CLAUDEMESH.md into the model's context (the MCP
 * instructions are cut at 2-4 KB, and a turn started by a push has none since Claude Code 2.1.251); the
 * others report status.
 */
export const HOOK_EVENTS = { SessionStart: "context", UserPromptSubmit: "working", PreToolUse: "working", Stop: "idle" } as const;
export type HookEvent = keyof typeof HOOK_EVENTS;
export type HookState = (typeof HOOK_EVENTS)[HookEvent];

export interface CommandHook {
  type: "command";
  command: string;
  [k: string]: unknown;
}
export interface HookGroup {
  matcher?: string;
  hooks: CommandHook[];
  [k: string]: unknown;
}

/** POSIX single quotes: Claude Code runs hook commands through a shell, and paths may hold spaces or quotes. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_/.:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

export function hookCommand(self: readonly string[], state: HookState): string {
  return [...self, "hook", state].map(shellQuote).join(" ");
}

/** `{"hooks": {"Stop": [{"hooks": [{"type":"command","command":"… hook idle"}]}], …}}` */
export function hooksFor(self: readonly string[]): Record<HookEvent, HookGroup[]> {
  const out = {} as Record<HookEvent, HookGroup[]>;
  for (const [event, state] of Object.entries(HOOK_EVENTS) as [HookEvent, HookState][]) {
    out[event] = [{ hooks: [{ type: "command", command: hookCommand(self, state) }] }];
  }
  return out;
}

export interface McpServerEntry {
  type?: "stdio";
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** `self` is how to run this claudemesh (see util/self.ts): a compiled binary, or bun + the entry script. */
export function mcpServerEntry(self: readonly string[], env: Record<string, string>): McpServerEntry {
  const [command, ...prefix] = self;
  if (!command) throw new Error("selfCommand() returned nothing");
  return { command, args: [...prefix, "mcp"], env };
}

/**
 * Our session settings merged with the user's own `--settings` values: their keys win, except `hooks`,
 * where both sets run (ours appended per event), so a user's settings never switch off status reporting.
 */
export function mergeSettings(ours: { hooks: Record<string, HookGroup[]> }, users: Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  const hooks: Record<string, HookGroup[]> = {};
  for (const u of users) {
    const { hooks: uh, ...rest } = u;
    Object.assign(merged, rest);
    if (uh && typeof uh === "object" && !Array.isArray(uh)) {
      for (const [event, groups] of Object.entries(uh)) if (Array.isArray(groups)) hooks[event] = [...(hooks[event] ?? []), ...(groups as HookGroup[])];
    }
  }
  for (const [event, groups] of Object.entries(ours.hooks)) hooks[event] = [...(hooks[event] ?? []), ...groups];
  return { ...merged, hooks };
}
