import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote as q } from "../../src/launch/claude-config.ts";
import { waitUntil } from "./wait.ts";

export const hasTmux = () => Bun.which("tmux") !== null;

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

const matches = (screen: string, pattern: string | RegExp) => (typeof pattern === "string" ? screen.includes(pattern) : pattern.test(screen));

export interface TmuxOptions {
  /** the program's environment, exported by its launch script */
  env: Record<string, string>;
  cwd: string;
  /** the test's temp dir: socket, config, launch script and exit file go there, and go away with it */
  dir: string;
  cols: number;
  rows: number;
  /**
   * "exec": the program replaces the launch shell, so `stop` signals the program itself.
   * "exit-file": the shell outlives the program and records its exit status for `exitCode`.
   */
  run: "exec" | "exit-file";
  /** Under `env -i`: the program gets `env` only, nothing of the environment the tmux server inherited. */
  isolateEnv?: boolean;
}

/**
 * An interactive program in its own tmux server: a private socket in the test's temp dir, so nothing touches
 * the user's tmux and no socket is left in /tmp/tmux-<uid> (tmux -L would leave one behind). The pane stays
 * after the program exits, so its last screen can still be read.
 */
export class TmuxSession {
  readonly socket: string;
  private readonly exitFile: string | null;
  private stopped = false;

  private constructor(
    readonly name: string,
    dir: string,
    recordExit: boolean,
  ) {
    this.socket = join(dir, `${name}.tmux`);
    this.exitFile = recordExit ? join(dir, `${name}.exit`) : null;
  }

  static start(name: string, argv: string[], opts: TmuxOptions): TmuxSession {
    const s = new TmuxSession(name, opts.dir, opts.run === "exit-file");
    const conf = join(opts.dir, `${name}.tmux.conf`);
    writeFileSync(conf, "set -g remain-on-exit on\nset -g history-limit 10000\n");
    const script = join(opts.dir, `${name}.sh`);
    const exports = Object.entries(opts.env).map(([k, v]) => `export ${k}=${q(v)}`);
    const command = argv.map(q).join(" ");
    // The status goes to a temp name first: a reader never sees a half-written exit file.
    const body = s.exitFile ? [command, `echo $? > ${q(s.exitFile)}.tmp`, `mv ${q(s.exitFile)}.tmp ${q(s.exitFile)}`] : [`exec ${command}`];
    writeFileSync(script, ["#!/bin/sh", ...exports, `cd ${q(opts.cwd)}`, ...body, ""].join("\n"));
    const shell = `${opts.isolateEnv ? "env -i " : ""}sh ${q(script)}`;
    run(["-S", s.socket, "-f", conf, "new-session", "-d", "-s", name, "-x", String(opts.cols), "-y", String(opts.rows), shell]);
    return s;
  }

  private tmux(...args: string[]): string {
    return run(["-S", this.socket, ...args]);
  }

  private capture(...range: string[]): string {
    try {
      return this.tmux("capture-pane", "-p", "-J", ...range, "-t", this.name);
    } catch (err) {
      return `<capture failed: ${(err as Error).message}>`;
    }
  }

  /** The visible screen (no scrollback), lines joined. */
  screen(): string {
    return this.capture();
  }

  /** Screen plus scrollback: everything the program printed. */
  history(): string {
    return this.capture("-S", "-");
  }

  /** tmux key names: Enter, Up, Down, BSpace, C-c, Escape… */
  press(...keys: string[]): void {
    this.tmux("send-keys", "-t", this.name, ...keys);
  }

  /** Literal text, no key-name interpretation. */
  type(text: string): void {
    this.tmux("send-keys", "-t", this.name, "-l", text);
  }

  /** The pid of the program in the pane (the process `run: "exec"` replaced the shell with); 0 when there is none. */
  pid(): number {
    try {
      return Number(this.tmux("display-message", "-p", "-t", this.name, "#{pane_pid}").trim()) || 0;
    } catch {
      return 0;
    }
  }

  /** true while the program in the pane runs. */
  alive(): boolean {
    try {
      return this.tmux("display-message", "-p", "-t", this.name, "#{pane_dead}").trim() === "0";
    } catch {
      return false;
    }
  }

  /** A failed wait says what was on screen: the only clue to why a terminal test hung. */
  private withScreen<T>(wait: Promise<T>): Promise<T> {
    return wait.catch((err) => {
      throw new Error(`tmux ${this.name}: ${(err as Error).message}\n--- screen ---\n${this.screen()}`);
    });
  }

  /** Polls the screen until `pattern` shows; returns the screen. */
  waitFor(pattern: string | RegExp, timeoutMs = 15_000): Promise<string> {
    return this.withScreen(
      waitUntil(
        `${pattern} on screen`,
        () => {
          const s = this.screen();
          return matches(s, pattern) ? s : undefined;
        },
        timeoutMs,
      ),
    );
  }

  /** Polls until `pattern` is gone from the screen. */
  async waitGone(pattern: string | RegExp, timeoutMs = 10_000): Promise<void> {
    await this.withScreen(waitUntil(`${pattern} to leave the screen`, () => (matches(this.screen(), pattern) ? undefined : true), timeoutMs));
  }

  /** The program's exit status, once it has exited (sessions started with run: "exit-file"). */
  async exitCode(timeoutMs = 20_000): Promise<number> {
    const file = this.exitFile;
    if (!file) throw new Error(`tmux ${this.name}: started with run: "exec", no exit status is recorded`);
    return this.withScreen(
      waitUntil(
        `exit of ${this.name}`,
        () => {
          try {
            return Number(readFileSync(file, "utf8").trim());
          } catch {
            return undefined;
          }
        },
        timeoutMs,
      ),
    );
  }

  /** Resolves true once the program has exited, false if it still runs after `timeoutMs`. */
  private exited(timeoutMs: number): Promise<boolean> {
    return waitUntil("exit", () => (this.alive() ? undefined : true), timeoutMs).catch(() => false);
  }

  /**
   * Ends the program (SIGTERM, then SIGKILL after `graceMs`), waits until it has exited, so it writes no
   * more files into a dir about to be removed, then ends the tmux server. Safe to call twice.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const pid = this.pid();
    if (pid > 0 && this.alive()) {
      signal(pid, "SIGTERM");
      if (!(await this.exited(graceMs))) {
        signal(pid, "SIGKILL");
        await this.exited(2_000);
      }
    }
    run(["-S", this.socket, "kill-server"], false);
    rmSync(this.socket, { force: true });
  }
}
