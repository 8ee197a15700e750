import { existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { claudeHookSocket, parentPid } from "../session/claude-socket.ts";
import { CLAUDE_PID_FILE, hookSocketPath, LAUNCHER_ENV, SESSION_ENV } from "../session/paths.ts";
import { HOOK_TIMEOUT_MS, type HookEventName, MAX_HOOK_JSON } from "./hook-protocol.ts";

/**
 * Claude Code's hook JSON as we forward it: parsed when possible, and cut down to its scalar top-level
 * fields (session_id, hook_event_name, tool_name, …) when it is too big to be worth shipping.
 */
export function hookPayload(stdin: string): unknown {
  const text = stdin.trim();
  if (!text) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (text.length <= MAX_HOOK_JSON) return parsed;
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  const small: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === "string" ? v.length <= 1024 : typeof v === "number" || typeof v === "boolean") small[k] = v;
  }
  return small;
}

/**
 * true when this hook runs in a session launched by another claudemesh, whose own hooks act there.
 *
 * A launched session gets launch's hooks (`--settings`) and, after `install`, the user-scope ones too.
 * Claude Code runs identical hook commands once, so with one claudemesh on the machine nothing is doubled.
 * Installed from another path (a source checkout, an older copy) the commands differ and both run: the
 * guide would enter the context twice and every status would be reported twice. The launcher's hooks are
 * the ones that match its session (same version as its `mcp`), so every other claudemesh stands aside.
 */
export function standsAside(self: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const launcher = env[LAUNCHER_ENV];
  // Cheap test first: in the usual case (the launcher runs its own hooks) the pid file is never read here.
  return Boolean(launcher && launcher !== JSON.stringify(self) && launchedSessionDir(env));
}

/**
 * The launched session this hook belongs to, if any. A `claude` that the model starts from inside a
 * launched session inherits its environment, CLAUDEMESH_SESSION_DIR included; its hooks must not report
 * to the outer session, so the session dir only counts when its `claude` runs this hook (as parent, or
 * grandparent through `sh -c`). Without the pid file (an older launcher) the dir is trusted as before.
 */
export function launchedSessionDir(env: NodeJS.ProcessEnv = process.env, ppid = process.ppid): string | null {
  const dir = env[SESSION_ENV];
  if (!dir) return null;
  let owner: number;
  try {
    owner = Number(readFileSync(join(dir, CLAUDE_PID_FILE), "utf8").trim());
  } catch {
    return dir;
  }
  return owner === ppid || owner === parentPid(ppid) ? dir : null;
}

/**
 * The socket of this hook's session: a launched session's is in its session dir (and only there); plain
 * `claude` after `install` has none, and its mcp process listens at a path named after Claude Code's pid.
 */
function sessionSocket(env: NodeJS.ProcessEnv): string | null {
  const dir = env[SESSION_ENV];
  if (!dir) return claudeHookSocket();
  if (!launchedSessionDir(env)) {
    // Not the launched claude's hook: a nested claude with its own mcp reports there. With no such
    // socket (or a `claude` wrapper that forks, hiding the launched pid) the session dir is still used.
    const own = claudeHookSocket();
    if (own) return own;
  }
  const path = hookSocketPath(dir);
  return existsSync(path) ? path : null;
}

/**
 * Tells this session's `mcp` process about a hook event and waits (at most HOOK_TIMEOUT_MS) until it
 * has applied it. Never throws and never prints: outside a claudemesh session, or when the mcp
 * process is not there, it simply does nothing. Resolves true when the mcp process confirmed.
 */
export function sendHookEvent(event: HookEventName, hook: unknown, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  let path: string | null;
  try {
    path = sessionSocket(env);
  } catch {
    // e.g. no home dir to be found: a hook must never fail
    path = null;
  }
  if (!path) return Promise.resolve(false);
  return new Promise((resolve) => {
    let reply = "";
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), HOOK_TIMEOUT_MS);
    const sock = createConnection({ path }, () => {
      sock.write(JSON.stringify({ event, hook }) + "\n");
    });
    sock.setEncoding("utf8");
    sock.on("data", (chunk: string) => {
      reply += chunk;
      const nl = reply.indexOf("\n");
      if (nl === -1) return;
      try {
        finish((JSON.parse(reply.slice(0, nl)) as { ok?: unknown }).ok === true);
      } catch {
        finish(false);
      }
    });
    sock.on("error", () => finish(false));
    sock.on("close", () => finish(false));
  });
}
