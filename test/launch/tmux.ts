import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../src/launch/claude-config.ts";
import { waitUntil } from "./helpers.ts";

/**
 * A private tmux server (own socket, own config) for driving the wizard in a real terminal.
 * Panes stay after their command exits, so the last screen can still be read.
 */
export class Tmux {
  private readonly socket = `cm-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly conf: string;
  private n = 0;

  constructor(private readonly dir: string) {
    this.conf = join(dir, "tmux.conf");
    writeFileSync(this.conf, "set -g remain-on-exit on\nset -g history-limit 5000\n");
  }

  private tmux(...args: string[]): string {
    const p = Bun.spawnSync(["tmux", "-L", this.socket, "-f", this.conf, ...args], { stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${p.stderr.toString()}`);
    return p.stdout.toString();
  }

  /**
   * Runs `argv` with `env` in a new 100x40 window; the exit code lands in a file.
   * Returns a handle to read and type into that window.
   */
  start(argv: string[], env: Record<string, string>, cwd: string): TmuxPane {
    const name = `w${++this.n}`;
    const exitFile = join(this.dir, `${name}.exit`);
    const script = join(this.dir, `${name}.sh`);
    const exports = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    writeFileSync(script, ["#!/bin/sh", ...exports, `cd ${shellQuote(cwd)}`, argv.map(shellQuote).join(" "), `echo $? > ${shellQuote(exitFile)}.tmp`, `mv ${shellQuote(exitFile)}.tmp ${shellQuote(exitFile)}`, ""].join("\n"));
    this.tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "40", `sh ${shellQuote(script)}`);
    return new TmuxPane(this, name, exitFile);
  }

  capture(name: string): string {
    return this.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", name);
  }

  send(name: string, ...keys: string[]): void {
    this.tmux("send-keys", "-t", name, ...keys);
  }

  type(name: string, text: string): void {
    this.tmux("send-keys", "-t", name, "-l", text);
  }

  destroy(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // no sessions left: the server is gone already
    }
  }
}

export class TmuxPane {
  constructor(
    private readonly t: Tmux,
    readonly name: string,
    private readonly exitFile: string,
  ) {}

  screen(): string {
    return this.t.capture(this.name);
  }

  /** Waits until the screen shows `text` and returns the screen. */
  waitFor(text: string | RegExp, timeoutMs = 15_000): Promise<string> {
    return waitUntil(`screen to show ${text}`, () => {
      const s = this.screen();
      return (typeof text === "string" ? s.includes(text) : text.test(s)) ? s : undefined;
    }, timeoutMs).catch((e) => {
      throw new Error(`${(e as Error).message.split("\n")[0]}\n--- screen ---\n${this.screen()}`);
    });
  }

  type(text: string): void {
    this.t.type(this.name, text);
  }

  /** tmux key names: Enter, Down, C-c, … */
  press(...keys: string[]): void {
    this.t.send(this.name, ...keys);
  }

  async exitCode(timeoutMs = 20_000): Promise<number> {
    return waitUntil(`exit of ${this.name}`, () => {
      try {
        return Number(readFileSync(this.exitFile, "utf8").trim());
      } catch {
        return undefined;
      }
    }, timeoutMs).catch((e) => {
      throw new Error(`${(e as Error).message.split("\n")[0]}\n--- screen ---\n${this.screen()}`);
    });
  }
}
