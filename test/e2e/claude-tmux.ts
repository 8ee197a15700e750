import { type TmuxOptions, TmuxSession } from "../helpers/tmux.ts";

/**
 * A claude (or a `claudemesh launch` that execs it) in a 200x50 tmux window: exec'd, so `stop` signals
 * claude itself and waits while it flushes telemetry and logs; under env -i, so it sees exactly `env` and
 * nothing of the test runner's environment.
 */
export function startClaude(name: string, argv: string[], opts: Pick<TmuxOptions, "env" | "cwd" | "dir">): TmuxSession {
  return TmuxSession.start(name, argv, { ...opts, cols: 200, rows: 50, run: "exec", isolateEnv: true });
}

/**
 * Claude Code's start-up dialogs (2.1.197), in the order they may appear. Each is answered once, moving
 * the cursor first and waiting until it is on the wanted option, then pressing Enter.
 */
interface Dialog {
  name: string;
  /** text that identifies the dialog on screen */
  marker: RegExp;
  /** keys that move the selection to the wanted option (none = the default is right) */
  move?: string;
  /** the wanted option, selected (the cursor ❯ before it) */
  selected: RegExp;
}

export const CLAUDE_DIALOGS: Dialog[] = [
  { name: "trust folder", marker: /Yes, I trust this folder/, selected: /❯ 1\. Yes, I trust this folder/ },
  { name: "custom API key", marker: /Detected a custom API key/, move: "Up", selected: /❯ 1\. Yes/ },
  { name: "bypass permissions", marker: /Bypass Permissions mode[\s\S]*Yes, I accept/, move: "Down", selected: /❯ 2\. Yes, I accept/ },
  { name: "development channels", marker: /Loading development channels/, selected: /❯ 1\. I am using this for local development/ },
];

/** The input box of a ready session: the status line under it. */
const READY = /bypass permissions on|\? for shortcuts/;
/** Shown when the channel gate is closed: every notification would be dropped. */
export const CHANNELS_UNAVAILABLE = /Channels are not currently available/;

/**
 * Answers Claude Code's start-up dialogs as they come and resolves once the prompt is ready.
 * Returns the names of the dialogs it answered, in order.
 */
export async function passClaudeDialogs(s: TmuxSession, timeoutMs = 45_000): Promise<string[]> {
  const answered: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = s.screen();
    if (CHANNELS_UNAVAILABLE.test(screen)) throw new Error(`claude says channels are unavailable (gate closed)\n--- screen ---\n${screen}`);
    const d = CLAUDE_DIALOGS.find((x) => x.marker.test(screen));
    if (d) {
      if (d.move && !d.selected.test(screen)) {
        s.press(d.move);
        await s.waitFor(d.selected, 5_000);
      }
      s.press("Enter");
      await s.waitGone(d.marker, 10_000);
      answered.push(d.name);
      continue;
    }
    if (READY.test(screen) && /❯/.test(screen)) return answered;
    if (!s.alive()) throw new Error(`claude exited during start-up\n--- screen ---\n${s.history()}`);
    if (Date.now() > deadline) throw new Error(`claude not ready after ${timeoutMs} ms (answered: ${answered.join(", ") || "none"})\n--- screen ---\n${screen}`);
    await Bun.sleep(50);
  }
}
