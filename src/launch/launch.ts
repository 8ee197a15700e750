import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { brokerPin, loadConfig } from "../client/config.ts";
import { claudemeshHome, loginName } from "../util/home.ts";
import { joinMesh } from "../client/join.ts";
import { CLAUDE_PID_FILE, LAUNCHER_ENV, SESSION_ENV } from "../session/paths.ts";
import { NotFoundError } from "../util/errors.ts";
import { selfCommand } from "../util/self.ts";
import { VERSION } from "../version.ts";
import { buildClaudeArgv, stripDangerousFlags } from "./argv.ts";
import { PromptCancelled } from "./prompts.ts";
import { autonomousRootFix, CLAUDE_BIN_ENV, refusesAutonomousRoot, resolveClaudeBin, runClaude } from "./run-claude.ts";
import { cleanOrphanSessions, createSession, removeSession } from "./session.ts";
import { loadSettingsArg } from "./user-settings.ts";
import { groupSpec, type LaunchFlags, runWizard } from "./wizard.ts";

/** Exit code for Ctrl-C in the wizard, as a shell reports a SIGINT death. */
export const EXIT_CANCELLED = 130;

/** Claude Code's own refusal to skip permission prompts as root (`refusesAutonomousRoot`). */
const ROOT_REFUSAL = /--dangerously-skip-permissions cannot be used with root\/sudo privileges/;
export const rootHint = (env: NodeJS.ProcessEnv = process.env) => `claudemesh: Claude Code refuses autonomous mode as root: ${autonomousRootFix(env)}.`;
/** A claude that fails sooner than this never got to a conversation. */
const QUICK_EXIT_MS = 5000;
export const quickExitHint = (code: number, terminal = true) =>
  terminal
    ? `claudemesh: Claude Code exited at once (exit code ${code}). Check that \`claude\` alone starts here: network, API key or login.`
    : // without a terminal on stdin Claude Code does not start its UI: it answers one prompt (--print) and wants it on stdin
      `claudemesh: Claude Code exited at once (exit code ${code}): stdin is not a terminal, so Claude Code does not start a session. Run \`claudemesh launch\` in a terminal.`;

export interface LaunchIo {
  /** wizard and banner text (stderr would do too, but the wizard is a conversation on the terminal) */
  print(line: string): void;
  interactive: boolean;
}

const defaultIo: LaunchIo = {
  print: (line) => process.stdout.write(line + "\n"),
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
};

/** The whole of `claudemesh launch`: join, wizard, session dir, claude, cleanup. Resolves with the exit code. */
export async function launch(flags: LaunchFlags, passthrough: string[], io: LaunchIo = defaultIo): Promise<number> {
  cleanOrphanSessions();
  // Checked before any question, like --settings below.
  const pin = flags.broker === undefined ? undefined : brokerPin(flags.broker);
  const claude = resolveClaudeBin();
  // Checked before any question, so nobody answers a wizard only to learn claude is missing.
  if (!claude.path) {
    throw new NotFoundError(`Claude Code not found (${claude.wanted}): install it (npm install -g @anthropic-ai/claude-code) or set ${CLAUDE_BIN_ENV}`);
  }
  // Read before any question: a bad --settings should fail before the wizard, not after it.
  const userSettings = stripDangerousFlags(passthrough).settings.map(loadSettingsArg);
  if (!flags.quiet) io.print(`claudemesh ${VERSION} · launch Claude Code as a mesh peer`);

  let joined;
  if (flags.join) {
    const res = await joinMesh(flags.join, flags.name?.trim() || loginName());
    joined = res.mesh;
    if (!flags.quiet) io.print(res.created ? `Joined mesh ${joined.slug} as ${joined.displayName}.` : `Already a member of ${joined.slug}.`);
  }

  let plan;
  try {
    plan = await runWizard(flags, { meshes: loadConfig().meshes, joined, interactive: io.interactive, print: io.print });
  } catch (err) {
    if (err instanceof PromptCancelled) {
      io.print("Cancelled.");
      return EXIT_CANCELLED;
    }
    throw err;
  }
  if (!plan) {
    io.print("Not launched: autonomous mode was declined.");
    return 1;
  }

  const self = selfCommand();
  const session = createSession({
    meshSlug: plan.mesh.slug,
    displayName: plan.displayName,
    role: plan.role,
    groups: groupSpec(plan.groups),
    ...(pin !== undefined ? { broker: pin } : {}),
    self,
    userSettings,
  });
  try {
    const argv = buildClaudeArgv({ mcpConfigPath: session.mcpConfigPath, settingsPath: session.settingsPath, skipPermissions: true, passthrough });
    if (!flags.quiet) {
      const groups = plan.groups.length ? `, groups ${groupSpec(plan.groups)}` : "";
      const pinned = pin !== undefined ? `, on ${pin} only` : "";
      io.print(`Starting Claude Code as ${plan.displayName} in ${plan.mesh.slug}${plan.role ? ` (role ${plan.role})` : ""}${groups}${pinned}…`);
    }
    // Hooks inherit claude's environment, so this is how `claudemesh hook` finds its session, and how a
    // hook of another claudemesh (user-scope, from `install`) knows to leave the session to ours.
    const env = { ...process.env, [SESSION_ENV]: session.dir, [LAUNCHER_ENV]: JSON.stringify(self), CLAUDEMESH_HOME: resolve(claudemeshHome()) };
    // As root, Claude Code refuses --dangerously-skip-permissions and exits; its stderr is read to tell.
    // Only then: a pipe instead of the terminal is harmless for a claude that never starts its UI.
    let refusedRoot = false;
    const watch = refusesAutonomousRoot() ? (text: string) => void (refusedRoot ||= ROOT_REFUSAL.test(text)) : undefined;
    const started = Date.now();
    // Written before claude can run its first hook (SessionStart comes after its own start-up).
    const code = await runClaude(claude.path, argv, env, (pid) => writeFileSync(join(session.dir, CLAUDE_PID_FILE), `${pid}\n`, { mode: 0o600 }), watch);
    if (refusedRoot) process.stderr.write(`${rootHint()}\n`);
    else if (code !== 0 && code < 128 && Date.now() - started < QUICK_EXIT_MS) process.stderr.write(`${quickExitHint(code, process.stdin.isTTY === true)}\n`);
    return code;
  } finally {
    removeSession(session.dir);
  }
}
