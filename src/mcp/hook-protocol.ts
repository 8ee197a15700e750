/**
 * The one-line protocol between `claudemesh hook` and its session's `mcp` process, over the Unix
 * socket in the session dir. Dependency-free: the hook side must load almost nothing.
 *
 *   hook → mcp   {"event":"working"|"idle","hook":<Claude Code's hook JSON>}\n
 *   mcp  → hook  {"ok":true}\n   once the status is applied (or was already so), {"ok":false} otherwise
 */
export const HOOK_EVENTS = ["working", "idle"] as const;
export type HookEventName = (typeof HOOK_EVENTS)[number];

export const isHookEvent = (s: unknown): s is HookEventName => s === "working" || s === "idle";

/** Hooks block Claude Code (PreToolUse runs before every tool call): never wait longer than this. */
export const HOOK_TIMEOUT_MS = 1000;

/** Bigger hook payloads (a Write tool's whole file, say) are cut down to their small top-level fields. */
export const MAX_HOOK_JSON = 64 * 1024;
/** The server drops a client whose line grows past this. */
export const MAX_HOOK_LINE = 256 * 1024;
