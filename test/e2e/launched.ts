import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import type { TmuxSession } from "../helpers/tmux.ts";
import { claudeBin, claudeEnv, makeClaudeHome, writeMeshConfig } from "./claude-env.ts";
import { passClaudeDialogs, startClaude } from "./claude-tmux.ts";
import { sessionApiKey } from "./fake-anthropic.ts";

/** A Claude Code session started by `claudemesh launch`, with its own HOME, claudemesh home and project. */
export interface LaunchedSession {
  name: string;
  dir: string;
  /** the working directory claude runs in */
  project: string;
  home: string;
  cmHome: string;
  debugFile: string;
  pane: TmuxSession | null;
}

/** Lays out `<root>/<name>/`: a Claude HOME, a claudemesh home joined to `m`, and an empty project. */
export function launchedSession(root: string, name: string, m: MeshConfig): LaunchedSession {
  const dir = join(root, name.toLowerCase());
  const project = join(dir, "project");
  mkdirSync(project, { recursive: true });
  const cmHome = writeMeshConfig(join(dir, "claudemesh"), [m]);
  return { name, dir, project, home: makeClaudeHome(dir), cmHome, debugFile: join(dir, "claude-debug.log"), pane: null };
}

/**
 * Runs `<bin> launch --name <name> -y` in tmux against the fake API (the session's own API key tells its
 * requests apart) and passes Claude Code's start-up dialogs.
 */
export async function launch(s: LaunchedSession, opts: { bin: string; apiUrl: string; tmuxName?: string; env?: Record<string, string> }): Promise<void> {
  const env = claudeEnv({
    home: s.home,
    apiUrl: opts.apiUrl,
    apiKey: sessionApiKey(s.name),
    extra: { CLAUDEMESH_HOME: s.cmHome, CLAUDEMESH_CLAUDE_BIN: claudeBin() as string, ...opts.env },
  });
  s.pane = startClaude(opts.tmuxName ?? s.name.toLowerCase(), [opts.bin, "launch", "--name", s.name, "-y", "--", "--debug-file", s.debugFile], {
    env,
    cwd: s.project,
    dir: s.dir,
  });
  await passClaudeDialogs(s.pane);
}
