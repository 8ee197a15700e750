import { join } from "node:path";

/**
 * Session-dir names without any dependency (no zod): `claudemesh hook` runs on every tool call of a
 * session and must load almost nothing.
 */
export const SESSION_ENV = "CLAUDEMESH_SESSION_DIR";
/**
 * Set by `launch` next to SESSION_ENV: how the launching claudemesh runs itself (selfCommand() as JSON),
 * so that a hook of another claudemesh (install's user-scope hooks from another path) can stand aside.
 */
export const LAUNCHER_ENV = "CLAUDEMESH_LAUNCHER";
export const SESSION_FILE = "session.json";
/** pid of the `claude` a launch started, so hooks of a `claude` nested inside it can tell they are not its. */
export const CLAUDE_PID_FILE = "claude.pid";
/** Unix socket on which the session's `mcp` process listens for `claudemesh hook` status events. */
export const HOOK_SOCKET = "hook.sock";

export const hookSocketPath = (dir: string) => join(dir, HOOK_SOCKET);
