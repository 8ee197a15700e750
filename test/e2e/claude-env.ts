import { describe, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { hasTmux } from "../helpers/tmux.ts";

export const REPO = resolve(import.meta.dir, "../..");
/** The real Claude Code CLI (devDependency, pinned). */
export const CLAUDE_BIN_LINK = join(REPO, "node_modules/.bin/claude");

export function claudeBin(): string | null {
  return existsSync(CLAUDE_BIN_LINK) ? realpathSync(CLAUDE_BIN_LINK) : null;
}

/**
 * Why the real-CLI suites cannot run here, or null. In CI (`CI=true`) a missing prerequisite is a
 * failure, never a silent skip: see `requireRealClaude`.
 */
export function missingPrerequisites(): string | null {
  const missing: string[] = [];
  if (!claudeBin()) missing.push(`the claude CLI (${CLAUDE_BIN_LINK}; run npm install)`);
  if (!hasTmux()) missing.push("tmux (apt-get install tmux)");
  return missing.length ? `missing ${missing.join(" and ")}` : null;
}

export const inCI = () => process.env.CI === "true" || process.env.CI === "1";

/**
 * A describe block that needs the real claude and tmux. Missing either: locally a skip with the reason
 * printed; in CI a failing test, so a broken CI image can never pass by skipping.
 */
export function describeRealClaude(name: string, body: () => void): void {
  const missing = missingPrerequisites();
  if (!missing) return void describe(name, body);
  if (inCI()) {
    describe(name, () => {
      test("prerequisites for the real Claude Code CLI", () => {
        throw new Error(`CI=true but ${missing}: the real-CLI end-to-end suite cannot run`);
      });
    });
    return;
  }
  console.log(`[claudemesh e2e] SKIPPED "${name}": ${missing}`);
  describe.skip(name, body);
}

/** Appends a line to $CLAUDEMESH_E2E_MARKER: .ci/run fails unless the real-CLI suite wrote one. */
export function markE2ERan(what: string): void {
  const marker = process.env.CLAUDEMESH_E2E_MARKER;
  if (marker) require("node:fs").appendFileSync(marker, `${what}\n`);
}

/**
 * A HOME for one claude process. Offline, the channel gate opens only with the cached feature flag
 * `tengu_harbor` here plus CLAUDE_CODE_PROVIDER_MANAGED_BY_HOST=1 in the environment.
 */
export function makeClaudeHome(dir: string): string {
  const home = join(dir, "home");
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, ".claude.json"), JSON.stringify({ hasCompletedOnboarding: true, cachedGrowthBookFeatures: { tengu_harbor: true } }, null, 2));
  return home;
}

/** Environment for a real claude against the fake API. Nothing else is inherited (the pane runs under env -i). */
export function claudeEnv(opts: { home: string; apiUrl: string; apiKey?: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: opts.home,
    TERM: "xterm-256color",
    LANG: "C.UTF-8",
    ANTHROPIC_BASE_URL: opts.apiUrl,
    ANTHROPIC_API_KEY: opts.apiKey ?? "sk-ant-e2e-fake-key-0000",
    CLAUDE_CODE_PROVIDER_MANAGED_BY_HOST: "1",
    // As root, --dangerously-skip-permissions is refused without it.
    IS_SANDBOX: "1",
    DISABLE_AUTOUPDATER: "1",
    ...opts.extra,
  };
}

/** The last `lines` lines of a debug log (or a note that there is none). */
export function tail(file: string, lines = 60): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return `<no file ${file}>`;
  }
}

export function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
