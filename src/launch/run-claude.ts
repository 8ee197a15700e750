import { constants } from "node:os";
import { NotFoundError } from "../util/errors.ts";

export const CLAUDE_BIN_ENV = "CLAUDEMESH_CLAUDE_BIN";

/** `CLAUDEMESH_CLAUDE_BIN` (a path or a name), else `claude`, resolved on PATH; null if not found. */
export function resolveClaudeBin(env: NodeJS.ProcessEnv = process.env): { wanted: string; path: string | null } {
  const wanted = env[CLAUDE_BIN_ENV] || "claude";
  return { wanted, path: Bun.which(wanted, { PATH: env.PATH ?? "" }) };
}

/**
 * Whether Claude Code refuses `--dangerously-skip-permissions` (what `launch` runs it with) here: as root,
 * unless it is told it runs in a sandbox. Both verified versions (2.1.197, 2.1.332) take only
 * `IS_SANDBOX=1` for that (`IS_SANDBOX=yes` or `true` is refused), or `CLAUDE_CODE_BUBBLEWRAP`.
 */
export function refusesAutonomousRoot(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): boolean {
  return uid === 0 && env.IS_SANDBOX !== "1" && !env.CLAUDE_CODE_BUBBLEWRAP;
}

/** What to do about `refusesAutonomousRoot`, for `launch` after the refusal and for `doctor` before it. */
export function autonomousRootFix(env: NodeJS.ProcessEnv = process.env): string {
  const set = env.IS_SANDBOX !== undefined ? ` (IS_SANDBOX=${env.IS_SANDBOX} is not enough: Claude Code wants exactly 1)` : "";
  return `run \`claudemesh launch\` as a normal user, or, inside a container or VM that is yours to lose, set IS_SANDBOX=1${set}`;
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs claude on this terminal and resolves with its exit code (128 + n when a signal ended it).
 * Signals sent to the launcher are passed on, so `kill <launcher>` ends claude rather than orphaning it;
 * the launcher itself stays alive until claude is gone, so it can clean up after it.
 */
export async function runClaude(
  bin: string,
  args: string[],
  env: Record<string, string | undefined>,
  onStart: (pid: number) => void = () => {},
  /** when set, claude's stderr goes through a pipe (still copied to ours as it comes) so it can be read */
  onStderr?: (text: string) => void,
): Promise<number> {
  // Our prompts read stdin; from here on every keystroke belongs to claude.
  process.stdin.pause();
  let proc: Bun.Subprocess<"inherit", "inherit", "inherit" | "pipe">;
  try {
    proc = Bun.spawn([bin, ...args], { stdio: ["inherit", "inherit", onStderr ? "pipe" : "inherit"], env });
  } catch (err) {
    throw new NotFoundError(`cannot start Claude Code (${bin}): ${err instanceof Error ? err.message : String(err)}`);
  }
  onStart(proc.pid);
  const copied = onStderr && proc.stderr instanceof ReadableStream ? copyStderr(proc.stderr, onStderr) : Promise.resolve();
  const handlers = FORWARDED.map((sig) => {
    const h = () => {
      try {
        proc.kill(sig);
      } catch {
        // already gone
      }
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    const code = await proc.exited;
    await copied;
    const sig = proc.signalCode;
    return sig ? 128 + (constants.signals[sig as keyof typeof constants.signals] ?? 0) : code;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

async function copyStderr(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    process.stderr.write(value);
    onText(decoder.decode(value, { stream: true }));
  }
}
