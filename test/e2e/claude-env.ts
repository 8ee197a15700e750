import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { closeClients, type TestBroker } from "../helpers/broker.ts";
import { hasTmux, type TmuxSession } from "../helpers/tmux.ts";
import type { FakeAnthropic, Json, RecordedRequest } from "./fake-anthropic.ts";

export const REPO = resolve(import.meta.dir, "../..");
/** The model-facing guide, as the binary embeds it. */
export const GUIDE = readFileSync(join(REPO, "CLAUDEMESH.md"), "utf8").trim();
/** The real Claude Code CLI: the devDependency (pinned, the newest verified release). */
export const CLAUDE_BIN_LINK = join(REPO, "node_modules/.bin/claude");
/** Runs the suite against another claude (.ci/run: the oldest supported version, from a cache dir). */
export const CLAUDE_BIN_ENV = "CLAUDEMESH_E2E_CLAUDE_BIN";

/** The claude the e2e suite drives: $CLAUDEMESH_E2E_CLAUDE_BIN, else the devDependency; null if missing. */
export function claudeBin(): string | null {
  const path = process.env[CLAUDE_BIN_ENV] || CLAUDE_BIN_LINK;
  return existsSync(path) ? realpathSync(path) : null;
}

let versionCache: string | null = null;
/** `claude --version` of the claude under test ("2.1.332"): what the e2e marker records as having run. */
export function claudeVersion(): string {
  if (versionCache) return versionCache;
  const bin = claudeBin();
  if (!bin) throw new Error("no claude binary");
  const p = Bun.spawnSync([bin, "--version"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DISABLE_AUTOUPDATER: "1" },
  });
  const v = /(\d+\.\d+\.\d+)/.exec(p.stdout.toString())?.[1];
  if (!v) throw new Error(`cannot read a version from \`${bin} --version\`: ${p.stdout.toString()}${p.stderr.toString()}`);
  versionCache = v;
  return v;
}

/** true when the claude under test is at least `min` (for facts that changed between versions). */
export function claudeAtLeast(min: string): boolean {
  const a = claudeVersion().split(".").map(Number);
  const b = min.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/**
 * Why the real-CLI suites cannot run here, or null. In CI (`CI=true`) a missing prerequisite is a
 * failure, never a silent skip: see `requireRealClaude`.
 */
export function missingPrerequisites(): string | null {
  const missing: string[] = [];
  if (!claudeBin())
    missing.push(
      process.env[CLAUDE_BIN_ENV]
        ? `the claude CLI at ${CLAUDE_BIN_ENV}=${process.env[CLAUDE_BIN_ENV]}`
        : `the claude CLI (${CLAUDE_BIN_LINK}; run npm install)`,
    );
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

/**
 * Appends `claude <version> <what>` to $CLAUDEMESH_E2E_MARKER, the version as `claude --version` reported
 * it: .ci/run fails unless every supported version wrote lines.
 */
export function markE2ERan(what: string): void {
  const marker = process.env.CLAUDEMESH_E2E_MARKER;
  if (marker) require("node:fs").appendFileSync(marker, `claude ${claudeVersion()} ${what}\n`);
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

/**
 * Tool search on, as real users have it: 2.1.304+ defers MCP tools for every API URL; older releases spare
 * loopback URLs (ours) unless ENABLE_TOOL_SEARCH says otherwise.
 */
export function toolSearchOn(): Record<string, string> {
  return claudeAtLeast("2.1.304") ? {} : { ENABLE_TOOL_SEARCH: "true" };
}

/** The claudemesh tools tool search must never defer (src/mcp/registry.ts ALWAYS_LOADED). */
export const REPLY_TOOLS = ["mcp__claudemesh__send_message", "mcp__claudemesh__check_messages", "mcp__claudemesh__list_peers"];

/**
 * A request made with tool search on: ToolSearch is there and the other claudemesh tools are deferred
 * (not in `tools`), yet the tools a peer answers with are loaded.
 */
export function expectToolSearch(body: Json): void {
  const names: string[] = (body?.tools ?? []).map((t: Json) => t.name);
  expect(names).toContain("ToolSearch");
  expect(names).not.toContain("mcp__claudemesh__set_state");
  expect(names).toEqual(expect.arrayContaining(REPLY_TOOLS));
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

const DEBUG_LINE = /^(\S+ \[[A-Z]+\] )(".*")$/;

/**
 * A claude debug log with every message as plain text. 2.1.197 writes a message that holds a newline as
 * is (continuation lines have no timestamp); 2.1.332 writes it as one JSON string on one line. Both come
 * out here as `<timestamp> [LEVEL] <text>`, the text's own newlines kept.
 */
export function decodeDebugLog(raw: string): string {
  return raw
    .split("\n")
    .map((line) => {
      const m = DEBUG_LINE.exec(line);
      if (!m) return line;
      try {
        const text = JSON.parse(m[2] as string);
        return typeof text === "string" ? `${m[1]}${text}` : line;
      } catch {
        return line;
      }
    })
    .join("\n");
}

/** A claude debug log, decoded (see decodeDebugLog). */
export const readDebugLog = (file: string) => decodeDebugLog(readText(file));

/**
 * The channel notifications a debug log shows arriving, as their text length: 2.1.197 logs
 * `notifications/claude/channel: <text>` (the text), 2.1.328+ `notifications/claude/channel (<n> chars)`.
 */
export function channelNotifications(log: string): { chars: number; text: string | null }[] {
  const out: { chars: number; text: string | null }[] = [];
  for (const m of log.matchAll(/notifications\/claude\/channel(?:: ([\s\S]*?)(?=\n\S+ \[[A-Z]+\] |$)| \((\d+) chars\))/g)) {
    if (m[2] !== undefined) out.push({ chars: Number(m[2]), text: null });
    else out.push({ chars: (m[1] ?? "").length, text: m[1] ?? "" });
  }
  return out;
}

/** Polls a claude debug log until `pattern` shows up in it (decoded); fails with the file's tail. */
export async function waitForText(file: string, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(readDebugLog(file))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${file}\n${tail(file, 30)}`);
    await Bun.sleep(50);
  }
}

/** A claudemesh home (CLAUDEMESH_HOME) that has joined `meshes`, as `claudemesh join` leaves it. */
export function writeMeshConfig(cmHome: string, meshes: MeshConfig[]): string {
  writeSecretFile(join(cmHome, "config.json"), JSON.stringify({ version: 1, meshes }, null, 2) + "\n");
  return cmHome;
}

/** One hook event as Claude Code resolved it: how many hooks it ran, and how many were configured. */
export interface HookMatch {
  event: string;
  unique: number;
  beforeDedup: number;
}

/**
 * The hook events in a debug log written with CLAUDE_CODE_DEBUG_LOG_LEVEL=verbose: Claude Code 2.1.197 logs
 * `Getting matching hook commands for <Event> …` and then `Matched <n> unique hooks … (<m> before
 * deduplication)`; command hooks are deduplicated by shell + command text across all settings sources.
 */
export function hookMatches(file: string): HookMatch[] {
  const out: HookMatch[] = [];
  let event: string | null = null;
  for (const line of readDebugLog(file).split("\n")) {
    const e = /Getting matching hook commands for (\w+) with query/.exec(line);
    if (e) event = e[1] as string;
    const m = /Matched (\d+) unique hooks for query .* \((\d+) before deduplication\)/.exec(line);
    if (m && event) {
      out.push({ event, unique: Number(m[1]), beforeDedup: Number(m[2]) });
      event = null;
    }
  }
  return out;
}

/** One real claude as a failure report shows it. */
export interface ClaudeRun {
  name: string;
  pane: TmuxSession | null;
  debugFile: string;
}

/** For afterAll, after reportClaudeRuns: the claude panes, the test clients, the fake API, the broker, the temp dir. */
export async function stopClaudeRuns(runs: ClaudeRun[], rest: { fake?: FakeAnthropic; broker?: TestBroker; root?: { cleanup(): void } }): Promise<void> {
  await Promise.all(runs.map((r) => r.pane?.stop()));
  closeClients();
  rest.fake?.stop();
  await rest.broker?.destroy();
  rest.root?.cleanup();
}

/**
 * For afterAll: when the test failed, every pane, the tail of every debug log, `details` per run and the
 * requests the fake recorded go to stderr; with CLAUDEMESH_E2E_ARTIFACTS set, the full request bodies and
 * debug logs are saved there (passed or not) for a post-mortem.
 */
export function reportClaudeRuns(opts: {
  failed: boolean;
  runs: ClaudeRun[];
  fake: FakeAnthropic | undefined;
  details?: (run: ClaudeRun) => string | null;
  notes?: string[];
  /** main requests the test's script had no answer for */
  unscripted?: RecordedRequest[];
}): void {
  const { runs, fake } = opts;
  if (opts.failed) {
    for (const r of runs) {
      console.error(`\n===== ${r.name}: pane =====\n${r.pane?.history() ?? "(not started)"}`);
      console.error(`===== ${r.name}: claude debug log (tail) =====\n${tail(r.debugFile, 80)}`);
      const more = opts.details?.(r);
      if (more) console.error(more);
    }
    console.error(`\n===== recorded API requests =====\n${fake?.dump()}`);
    for (const n of opts.notes ?? []) console.error(n);
    const missed = opts.unscripted ?? [];
    if (missed.length) console.error(`===== unscripted main requests: ${missed.map((r) => `#${r.seq} [${r.session}]`).join(", ")}`);
  }
  const artifacts = process.env.CLAUDEMESH_E2E_ARTIFACTS;
  if (artifacts && fake) {
    mkdirSync(artifacts, { recursive: true });
    fake.save(join(artifacts, "requests.jsonl"));
    for (const r of runs) writeFileSync(join(artifacts, `${r.name}-debug.log`), readText(r.debugFile));
    console.error(`(requests and claude debug logs saved in ${artifacts})`);
  }
}
