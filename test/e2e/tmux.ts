import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** POSIX single quotes for the launch script. */
const q = (s: string) => (/^[A-Za-z0-9_/.:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

function run(args: string[], check = true): string {
  const p = Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
  if (check && p.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export const hasTmux = () => Bun.which("tmux") !== null;

/**
 * An interactive program in its own tmux server (private socket in `dir`, so nothing touches the user's tmux) and a
 * 200x50 window. The pane stays after the program exits, so its last screen can still be read.
 */
export class TmuxSession {
  readonly socket: string;
  private killed = false;

  private constructor(
    readonly name: string,
    private readonly dir: string,
  ) {
    // An explicit socket path inside the test's temp dir: removed with it (tmux -L would leave the socket behind).
    this.socket = join(dir, `${name}.tmux`);
  }

  /** Starts `argv` with exactly `env` (plus nothing inherited) in `cwd`; `dir` holds the launch script. */
  static start(name: string, argv: string[], opts: { env: Record<string, string>; cwd: string; dir: string }): TmuxSession {
    const s = new TmuxSession(name, opts.dir);
    const conf = join(opts.dir, `${name}.tmux.conf`);
    writeFileSync(conf, "set -g remain-on-exit on\nset -g history-limit 10000\n");
    const script = join(opts.dir, `${name}.sh`);
    const exports = Object.entries(opts.env).map(([k, v]) => `export ${k}=${q(v)}`);
    writeFileSync(script, ["#!/bin/sh", ...exports, `cd ${q(opts.cwd)}`, `exec ${argv.map(q).join(" ")}`, ""].join("\n"));
    run(["-S", s.socket, "-f", conf, "new-session", "-d", "-s", name, "-x", "200", "-y", "50", `env -i sh ${q(script)}`]);
    return s;
  }

  private tmux(...args: string[]): string {
    return run(["-S", this.socket, ...args]);
  }

  /** The visible screen (no scrollback), lines joined. */
  screen(): string {
    try {
      return this.tmux("capture-pane", "-p", "-J", "-t", this.name);
    } catch (err) {
      return `<capture failed: ${(err as Error).message}>`;
    }
  }

  /** Screen plus scrollback. */
  history(): string {
    try {
      return this.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", this.name);
    } catch (err) {
      return `<capture failed: ${(err as Error).message}>`;
    }
  }

  /** tmux key names: Enter, Up, Down, C-c, Escape… */
  press(...keys: string[]): void {
    this.tmux("send-keys", "-t", this.name, ...keys);
  }

  /** Literal text, no key-name interpretation. */
  type(text: string): void {
    this.tmux("send-keys", "-t", this.name, "-l", text);
  }

  /** true while the program in the pane runs. */
  alive(): boolean {
    try {
      return this.tmux("display-message", "-p", "-t", this.name, "#{pane_dead}").trim() === "0";
    } catch {
      return false;
    }
  }

  /** Polls the screen until `pattern` shows; returns the screen. Fails with the screen in the message. */
  async waitFor(pattern: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const test = (s: string) => (typeof pattern === "string" ? s.includes(pattern) : pattern.test(s));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      if (test(s)) return s;
      if (Date.now() > deadline) throw new Error(`tmux ${this.name}: timed out after ${timeoutMs} ms waiting for ${pattern}\n--- screen ---\n${s}`);
      await Bun.sleep(50);
    }
  }

  /** Polls until `pattern` is gone from the screen. */
  async waitGone(pattern: string | RegExp, timeoutMs = 10_000): Promise<void> {
    const test = (s: string) => (typeof pattern === "string" ? s.includes(pattern) : pattern.test(s));
    const deadline = Date.now() + timeoutMs;
    while (test(this.screen())) {
      if (Date.now() > deadline) throw new Error(`tmux ${this.name}: "${pattern}" still on screen after ${timeoutMs} ms\n--- screen ---\n${this.screen()}`);
      await Bun.sleep(50);
    }
  }

  /**
   * Ends the program (SIGTERM, then SIGKILL after `graceMs`), waits until it has exited, so it writes no
   * more files (claude flushes telemetry and logs on exit), then ends the tmux server. Safe to call twice.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.killed) return;
    this.killed = true;
    let pid = 0;
    try {
      pid = Number(this.tmux("display-message", "-p", "-t", this.name, "#{pane_pid}").trim());
    } catch {
      // no server: nothing runs
    }
    if (pid > 0 && this.alive()) {
      signal(pid, "SIGTERM");
      const deadline = Date.now() + graceMs;
      while (this.alive() && Date.now() < deadline) await Bun.sleep(50);
      if (this.alive()) {
        signal(pid, "SIGKILL");
        const hard = Date.now() + 2_000;
        while (this.alive() && Date.now() < hard) await Bun.sleep(50);
      }
    }
    run(["-S", this.socket, "kill-server"], false);
    rmSync(this.socket, { force: true });
  }
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
