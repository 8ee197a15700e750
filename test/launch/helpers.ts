import { afterEach } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";
import { createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const MAIN = join(REPO, "src/cli/main.ts");
export const BUN = process.execPath;

/** What the fake claude saw; written once, atomically, when it exits. */
export interface FakeClaudeRecord {
  argv: string[];
  sessionDirEnv: string | null;
  homeEnv: string | null;
  launcherEnv: string | null;
  sessionDirMode: number | null;
  session: any;
  mcpConfig: any;
  settings: any;
  stdinIsTTY: boolean;
  line?: string;
  signal?: string;
  pid?: number;
  /** what launch wrote to the session's claude.pid, read just before exit */
  claudePidFile?: string | null;
}

/**
 * A stand-in for `claude` (CLAUDEMESH_CLAUDE_BIN): records its argv, its session env, the session dir's
 * mode and the files `launch` pointed it at, then exits with FAKE_CLAUDE_EXIT. FAKE_CLAUDE_READ_LINE makes
 * it read one line from the terminal first (proof it owns stdin); FAKE_CLAUDE_WAIT_SIGNAL makes it wait
 * for a signal and exit 128+n, as a real program would.
 */
const FAKE_CLAUDE = `#!${BUN}
const fs = require("node:fs");
const argv = process.argv.slice(2);
const out = process.env.FAKE_CLAUDE_OUT;
const valueOf = (flag) => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined; };
const readJson = (p) => { try { return JSON.parse(fs.readFileSync(p, "utf8")); } catch { return null; } };
const dir = process.env.CLAUDEMESH_SESSION_DIR ?? null;
const rec = {
  argv,
  sessionDirEnv: dir,
  homeEnv: process.env.CLAUDEMESH_HOME ?? null,
  launcherEnv: process.env.CLAUDEMESH_LAUNCHER ?? null,
  sessionDirMode: dir && fs.existsSync(dir) ? fs.statSync(dir).mode & 0o777 : null,
  session: dir ? readJson(dir + "/session.json") : null,
  mcpConfig: readJson(valueOf("--mcp-config")),
  settings: readJson(valueOf("--settings")),
  stdinIsTTY: Boolean(process.stdin.isTTY),
};
const finish = (code) => {
  rec.pid = process.pid;
  rec.claudePidFile = dir && fs.existsSync(dir + "/claude.pid") ? fs.readFileSync(dir + "/claude.pid", "utf8").trim() : null;
  fs.writeFileSync(out + ".tmp", JSON.stringify(rec));
  fs.renameSync(out + ".tmp", out);
  process.exit(code);
};
// FAKE_CLAUDE_STDERR: what the real claude prints before it refuses to start (e.g. as root).
if (process.env.FAKE_CLAUDE_STDERR) process.stderr.write(process.env.FAKE_CLAUDE_STDERR + "\\n");
if (process.env.FAKE_CLAUDE_WAIT_SIGNAL) {
  const codes = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
  for (const sig of Object.keys(codes)) process.on(sig, () => { rec.signal = sig; finish(128 + codes[sig]); });
  fs.writeFileSync(out + ".ready", "ready");
  setInterval(() => {}, 1 << 30);
} else if (process.env.FAKE_CLAUDE_READ_LINE) {
  process.stdout.write("fake claude> ");
  let buf = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (d) => {
    buf += d;
    const i = buf.search(/[\\r\\n]/);
    if (i >= 0) { rec.line = buf.slice(0, i); finish(Number(process.env.FAKE_CLAUDE_EXIT ?? 0)); }
  });
} else {
  finish(Number(process.env.FAKE_CLAUDE_EXIT ?? 0));
}
`;

export interface LaunchEnv {
  root: string;
  home: string;
  cmHome: string;
  fakeClaude: string;
  out: string;
  /** environment for a launch process */
  env: Record<string, string>;
  sessionsDir: string;
  record(): FakeClaudeRecord;
  cleanup(): void;
}

/** A temp HOME + CLAUDEMESH_HOME holding `meshes`, and a fake claude. */
export function launchEnv(meshes: MeshConfig[], extraEnv: Record<string, string> = {}): LaunchEnv {
  const t = tempDir("cm-launch-");
  const home = join(t.path, "home");
  const cmHome = join(t.path, "cmhome");
  mkdirSync(home, { recursive: true });
  if (meshes.length > 0) writeSecretFile(join(cmHome, "config.json"), JSON.stringify({ version: 1, meshes }, null, 2) + "\n");
  const fakeClaude = join(t.path, "fake-claude");
  writeFileSync(fakeClaude, FAKE_CLAUDE);
  chmodSync(fakeClaude, 0o755);
  const out = join(t.path, "claude-record.json");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    CLAUDEMESH_HOME: cmHome,
    CLAUDEMESH_CLAUDE_BIN: fakeClaude,
    FAKE_CLAUDE_OUT: out,
    TERM: "xterm-256color",
    ...extraEnv,
  };
  return {
    root: t.path,
    home,
    cmHome,
    fakeClaude,
    out,
    env,
    sessionsDir: join(cmHome, "sessions"),
    record: () => JSON.parse(readFileSync(out, "utf8")) as FakeClaudeRecord,
    cleanup: t.cleanup,
  };
}

export const fileExists = (p: string) => (existsSync(p) ? true : undefined);

export interface LaunchSuite {
  broker: TestBroker;
  devTeam: TestMesh;
  ops: TestMesh;
  /** A launch env (see launchEnv) holding the owner memberships of `meshes`; removed after the test. */
  setup(meshes: TestMesh[], extraEnv?: Record<string, string>): LaunchEnv;
  /** Runs `fn` after the test. Teardown goes newest first, so whatever lives in an env goes before the env. */
  defer(fn: () => void | Promise<void>): void;
}

/**
 * For a launch test file: a SQLite broker with the meshes dev-team and ops (ready before the first test), and launch
 * envs made per test and removed after it.
 */
export function launchSuite(): LaunchSuite {
  const teardown: (() => void | Promise<void>)[] = [];
  const suite = {
    defer: (fn) => void teardown.push(fn),
    setup(meshes, extraEnv = {}) {
      const e = launchEnv(
        meshes.map((m) => m.owner),
        extraEnv,
      );
      teardown.push(e.cleanup);
      return e;
    },
  } as LaunchSuite;
  suiteFixture(async (stack) => {
    suite.broker = stack.use(await startTestBroker("sqlite"));
    suite.devTeam = await createMesh(suite.broker, "dev-team");
    suite.ops = await createMesh(suite.broker, "ops");
  });
  afterEach(async () => {
    for (const fn of teardown.splice(0).reverse()) await fn();
  });
  return suite;
}
