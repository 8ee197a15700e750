import { type TmuxOptions, TmuxSession } from "../helpers/tmux.ts";
import { waitUntil } from "../helpers/wait.ts";

/**
 * A claude (or a `claudemesh launch` that execs it) in a 200x50 tmux window: exec'd, so `stop` signals
 * claude itself and waits while it flushes telemetry and logs; under env -i, so it sees exactly `env` and
 * nothing of the test runner's environment.
 */
export function startClaude(name: string, argv: string[], opts: Pick<TmuxOptions, "env" | "cwd" | "dir">): TmuxSession {
  return TmuxSession.start(name, argv, { ...opts, cols: 200, rows: 50, run: "exec", isolateEnv: true });
}

/**
 * One of Claude Code's start-up dialogs. The driver never assumes where an option is (2.1.197 numbers them
 * and puts "Yes" first, 2.1.332 leaves the numbers out and defaults the trust dialog to "No, exit"): it
 * reads which option is highlighted and moves to the wanted one.
 */
export interface Dialog {
  name: string;
  /** text that identifies the dialog on screen */
  marker: RegExp;
  /** the label of the option to choose, without any "1. " number */
  want: RegExp;
}

export const CLAUDE_DIALOGS: Dialog[] = [
  { name: "trust folder", marker: /Yes, I trust this folder/, want: /^Yes, I trust this folder/ },
  { name: "custom API key", marker: /Detected a custom API key/, want: /^Yes$/ },
  { name: "bypass permissions", marker: /Bypass Permissions mode[\s\S]*Yes, I accept/, want: /^Yes, I accept/ },
  { name: "development channels", marker: /Loading development channels/, want: /^I am using this for local development/ },
];

/**
 * A notice that only wants Enter: 2.1.332 in auto mode against a non-Anthropic API URL (ours) explains
 * classifier billing the first time a tool call is checked. Only notices about auto mode are answered: any
 * other "Enter to continue" screen is unknown and fails the run.
 */
export const AUTO_MODE_NOTICE = /auto mode[\s\S]*Enter to continue|Enter to continue[\s\S]*auto mode/i;

/** Keys sent while a dialog is still drawing are dropped (2.1.332: its first ~100 ms). */
export const SETTLE_MS = 200;

/**
 * The input box of a ready session: the status line under it. 2.1.197: "bypass permissions on" or
 * "? for shortcuts"; 2.1.332 adds auto mode (`⏵⏵ auto mode on`), the default of plain `claude`.
 */
const READY = /bypass permissions on|auto mode on|\? for shortcuts/;
/** What every start-up dialog prints under its options; a screen with it that no Dialog knows is unknown. */
const ANY_DIALOG = /Enter to confirm|Enter to continue/;
/** The footer under any selection (permission prompts end with "Esc to cancel" only). */
const OPTIONS_FOOTER = /Enter to confirm|Enter to continue|Esc to cancel/;
/** Shown when the channel gate is closed: every notification would be dropped. */
export const CHANNELS_UNAVAILABLE = /Channels are not currently available/;

export interface DialogOption {
  label: string;
  selected: boolean;
}

/**
 * The options of the dialog on screen, in order: lines like `❯ 1. Yes, I trust this folder` or
 * `  No, exit` right above the dialog's "Enter to confirm" footer. The highlighted line fixes the cursor
 * column; an option line has the cursor or a blank there and its label two columns further, which the
 * dialog's prose (starting at the cursor column) never has.
 */
export function dialogOptions(screen: string): DialogOption[] {
  const lines = screen.split("\n");
  const footer = lines.findIndex((l) => OPTIONS_FOOTER.test(l));
  if (footer < 0) return [];
  const above = lines.slice(0, footer);
  const cursorLine = above.findLast((l) => /^\s*❯/.test(l));
  if (cursorLine === undefined) return [];
  const col = cursorLine.indexOf("❯");
  const opts: DialogOption[] = [];
  for (let i = above.length - 1; i >= 0; i--) {
    const line = above[i] as string;
    if (line.trim() === "") {
      if (opts.length) break;
      continue;
    }
    const head = line.slice(0, col + 2);
    const m = /^\s*(❯)?\s*$/.exec(head);
    const label = line
      .slice(col + 2)
      .replace(/^\d+\.\s/, "")
      .trimEnd();
    if (!m || !/^\S/.test(line.slice(col + 2))) break;
    opts.unshift({ label, selected: m[1] === "❯" });
  }
  return opts;
}

const fail = (s: TmuxSession, why: string, screen = s.screen()) => new Error(`${why}\n--- screen ---\n${screen}`);

/** Answers the selection on screen (a permission prompt, say) with the option matching `want`, once it has settled. */
export async function chooseOption(s: TmuxSession, d: Dialog): Promise<void> {
  const { name, want } = d;
  await waitUntil(`options of "${name}" on screen`, () => (dialogOptions(s.screen()).some((o) => want.test(o.label)) ? true : undefined), 10_000).catch(
    (err) => {
      throw fail(s, (err as Error).message);
    },
  );
  await Bun.sleep(SETTLE_MS);
  await choose(s, d);
}

/** Moves the highlight to the option matching `want` (one key at a time, each waited for), then presses Enter. */
async function choose(s: TmuxSession, d: Dialog): Promise<void> {
  for (let moves = 0; ; moves++) {
    const screen = s.screen();
    const opts = dialogOptions(screen);
    const at = opts.findIndex((o) => o.selected);
    const to = opts.findIndex((o) => d.want.test(o.label));
    if (at < 0 || to < 0)
      throw fail(s, `dialog "${d.name}": cannot find ${at < 0 ? "the highlighted option" : `an option ${d.want}`} among ${JSON.stringify(opts)}`, screen);
    if (at === to) break;
    if (moves > opts.length) throw fail(s, `dialog "${d.name}": the highlight does not reach ${d.want}`, screen);
    s.press(to > at ? "Down" : "Up");
    const next = to > at ? at + 1 : at - 1;
    await waitUntil(
      `dialog "${d.name}": highlight on option ${next + 1}`,
      () => (dialogOptions(s.screen()).findIndex((o) => o.selected) === next ? true : undefined),
      5_000,
    ).catch((err) => {
      throw fail(s, (err as Error).message);
    });
  }
  s.press("Enter");
  await s.waitGone(d.marker, 10_000);
}

/**
 * Answers Claude Code's start-up dialogs as they come and resolves once the prompt is ready. Returns the
 * names of the dialogs it answered, in order. A dialog or notice it does not know fails the run with the
 * pane's text, never a guessed key.
 */
export async function passClaudeDialogs(s: TmuxSession, timeoutMs = 45_000): Promise<string[]> {
  const answered: string[] = [];
  const deadline = Date.now() + timeoutMs;
  /** when the current unknown dialog-like screen was first seen: it gets a moment to finish drawing */
  let unknownSince = 0;
  for (;;) {
    const screen = s.screen();
    if (CHANNELS_UNAVAILABLE.test(screen)) throw fail(s, "claude says channels are unavailable (gate closed)", screen);
    const d = CLAUDE_DIALOGS.find((x) => x.marker.test(screen));
    if (d) {
      unknownSince = 0;
      await Bun.sleep(SETTLE_MS);
      await choose(s, d);
      answered.push(d.name);
      continue;
    }
    if (AUTO_MODE_NOTICE.test(screen)) {
      unknownSince = 0;
      await Bun.sleep(SETTLE_MS);
      s.press("Enter");
      await s.waitGone(AUTO_MODE_NOTICE, 10_000);
      answered.push("auto mode notice");
      continue;
    }
    if (ANY_DIALOG.test(screen)) {
      unknownSince ||= Date.now();
      if (Date.now() - unknownSince > 3_000)
        throw fail(s, `claude shows a dialog the test driver does not know (answered so far: ${answered.join(", ") || "none"})`, screen);
    } else {
      unknownSince = 0;
      if (READY.test(screen) && /❯/.test(screen)) return answered;
    }
    if (!s.alive()) throw fail(s, "claude exited during start-up", s.history());
    if (Date.now() > deadline) throw fail(s, `claude not ready after ${timeoutMs} ms (answered: ${answered.join(", ") || "none"})`, screen);
    await Bun.sleep(50);
  }
}

/** Plain claude may ask before a tool runs (2.1.197 always; 2.1.332's auto mode decides itself). */
export const TOOL_PERMISSION = /Do you want to proceed\?/;

/**
 * Until `done` settles: answers what plain `claude` may put up around a tool call, as a user would — the
 * permission prompt with "Yes", 2.1.332's auto-mode notice with Enter. Returns what it answered, in order.
 */
export async function answerToolPrompts(s: TmuxSession, done: Promise<unknown>, timeoutMs = 30_000): Promise<string[]> {
  let settled = false;
  done.then(
    () => (settled = true),
    () => (settled = true),
  );
  const answered: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!settled) {
    const screen = s.screen();
    if (TOOL_PERMISSION.test(screen)) {
      await chooseOption(s, { name: "tool permission", marker: TOOL_PERMISSION, want: /^Yes$/ });
      answered.push("tool permission");
    } else if (AUTO_MODE_NOTICE.test(screen)) {
      await Bun.sleep(SETTLE_MS);
      s.press("Enter");
      await s.waitGone(AUTO_MODE_NOTICE, 10_000);
      answered.push("auto mode notice");
    } else if (Date.now() > deadline) {
      throw fail(s, `nothing settled after ${timeoutMs} ms (answered: ${answered.join(", ") || "none"})`, screen);
    } else {
      await Bun.sleep(50);
    }
  }
  return answered;
}
