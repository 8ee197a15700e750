import { homedir, hostname } from "node:os";
import { join } from "node:path";

/**
 * `$CLAUDEMESH_HOME`, else `~/.claudemesh`. Here rather than in client/config.ts (which re-exports it) so
 * that `claudemesh hook` can find the home without loading zod.
 */
export function claudemeshHome(): string {
  return process.env.CLAUDEMESH_HOME || join(homedir(), ".claudemesh");
}

/** CLAUDEMESH.md where `install` copies it and where the MCP instructions point. */
export const guidePath = () => join(claudemeshHome(), "CLAUDEMESH.md");

/** `~/…` for messages. */
export function tildify(path: string): string {
  const home = homedir();
  return path.startsWith(home + "/") ? `~${path.slice(home.length)}` : path;
}

/**
 * The login name, as the default display name of `join`, `mesh create` and `launch --join`. Bun's
 * `os.userInfo().username` is `$USER` or else "unknown" (it does not look the uid up as Node does), and
 * containers, cron and service managers often set no `$USER`: then LOGNAME, Windows' USERNAME, and on
 * POSIX the system's own lookup (`id -un`) before the host name.
 */
export function loginName(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.USER || env.LOGNAME || env.USERNAME;
  if (named) return named;
  const id = process.platform === "win32" ? null : Bun.which("id", { PATH: env.PATH || "/usr/bin:/bin" });
  if (id) {
    const p = Bun.spawnSync([id, "-un"], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
    const name = p.success ? p.stdout.toString().trim() : "";
    if (name) return name;
  }
  return hostname();
}
