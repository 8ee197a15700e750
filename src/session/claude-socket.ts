import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claudemeshHome } from "../util/home.ts";
import { pidAlive } from "../util/pid.ts";

/**
 * The hook socket of a session started with plain `claude` (no session dir, so no place that both sides
 * know in advance). Claude Code's process is the parent of its `claudemesh mcp` and the parent or
 * grandparent (through `sh -c`) of every hook command it runs, so its pid names the socket.
 *
 * Dependency-free: `claudemesh hook` loads this on every tool call.
 */

/** sun_path is 104 bytes on macOS and the BSDs (108 on Linux), the terminating NUL included. */
export const MAX_SOCKET_PATH = 103;

export interface PidSocket {
  /** private (0700) dir of this user that holds the socket */
  dir: string;
  path: string;
}

/**
 * Where the mcp process whose parent is `pid` listens: `<claudemeshHome>/run/<pid>.sock`, or, when that
 * path does not fit in sun_path, `<tmpdir>/claudemesh-<uid>/<pid>.sock`. Both sides compute it from the
 * same environment (hooks and MCP servers inherit Claude Code's), so they agree. null where there are no
 * uids (Windows) or no path fits.
 */
export function pidSocket(pid: number): PidSocket | null {
  const uid = process.getuid?.();
  if (uid === undefined || !Number.isSafeInteger(pid) || pid < 1) return null;
  for (const dir of [join(claudemeshHome(), "run"), join(tmpdir(), `claudemesh-${uid}`)]) {
    const path = join(dir, `${pid}.sock`);
    if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return { dir, path };
  }
  return null;
}

/**
 * A real directory (not a symlink) owned by this user and closed to group and world: nobody else can have
 * put a socket in it. The tmpdir fallback is shared ground, so this is checked, never assumed.
 */
export function isPrivateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * For the mcp process: creates the socket's dir (0700) if needed and refuses one it cannot trust. An
 * existing dir with loose permissions is refused rather than tightened: what is already in it may not be ours.
 */
export function preparePidSocketDir(sock: PidSocket): void {
  mkdirSync(sock.dir, { recursive: true, mode: 0o700 });
  if (!isPrivateDir(sock.dir))
    throw new Error(`${sock.dir} is not a private directory of this user (a directory, mode 0700, owned by uid ${process.getuid?.()})`);
}

/** Removes sockets whose Claude Code is gone: an mcp process killed outright leaves its socket behind. */
export function sweepDeadSockets(dir: string): void {
  try {
    for (const name of readdirSync(dir)) {
      const pid = /^(\d+)\.sock$/.exec(name)?.[1];
      if (pid && !pidAlive(Number(pid))) rmSync(join(dir, name), { force: true });
    }
  } catch {
    // best effort: a leftover socket only costs a refused connect
  }
}

/**
 * The parent of `pid`: /proc on Linux (one small read); elsewhere one `ps` run, which only happens when
 * the hook's direct parent has no socket. null when it cannot be known.
 */
export function parentPid(pid: number): number | null {
  let ppid: number;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so count from the last ")".
    ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    if (process.platform === "linux" || process.platform === "win32") return null;
    try {
      ppid = Number(execFileSync("ps", ["-o", "ppid=", "-p", String(pid)], { encoding: "utf8", timeout: 300, stdio: ["ignore", "pipe", "ignore"] }).trim());
    } catch {
      return null;
    }
  }
  return Number.isSafeInteger(ppid) && ppid >= 1 ? ppid : null;
}

function socketOf(pid: number | null): string | null {
  if (pid === null) return null;
  const sock = pidSocket(pid);
  if (!sock || !isPrivateDir(sock.dir)) return null;
  try {
    const st = lstatSync(sock.path);
    return st.isSocket() && st.uid === process.getuid?.() ? sock.path : null;
  } catch {
    return null;
  }
}

/**
 * For `claudemesh hook` outside a launched session: the socket of the Claude Code that runs this hook.
 * Claude Code runs hook commands through a shell, which may exec the command (Claude Code is the parent)
 * or fork it (Claude Code is the grandparent). The first of the two with a socket wins.
 */
export function claudeHookSocket(): string | null {
  const parent = process.ppid;
  return socketOf(parent) ?? socketOf(parentPid(parent));
}
