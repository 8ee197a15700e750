import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { UsageResponse } from "../../src/messaging/api.ts";
import {
  checkBroker,
  checkClaude,
  checkRootLaunch,
  checkHooksRegistration,
  checkMcpRegistration,
  checkPermissions,
  MIN_CLAUDE_VERSION,
  NEWEST_VERIFIED_CLAUDE_VERSION,
  parseVersion,
  versionAtLeast,
} from "../../src/doctor/checks.ts";
import { checkRoundTrip } from "../../src/doctor/round-trip.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";
import { createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

const REPO = join(import.meta.dir, "../..");
const MAIN = join(REPO, "src/cli/main.ts");
const BUN = process.execPath;
/** The real Claude Code CLI (a devDependency): `--version` works offline. */
const REAL_CLAUDE = join(REPO, "node_modules/.bin/claude");

let broker: TestBroker;
let mesh: TestMesh;
suiteFixture(async (stack) => {
  broker = stack.use(await startTestBroker("sqlite"));
  mesh = await createMesh(broker, "dev-team");
});

let t: { path: string; cleanup(): void };
let home: string;
let cmHome: string;
const savedCmHome = process.env.CLAUDEMESH_HOME;
beforeEach(() => {
  t = tempDir("cm-doctor-");
  home = join(t.path, "home");
  cmHome = join(t.path, "cmhome");
  mkdirSync(home);
  // CLAUDEMESH_HOME is read at call time (Bun's os.homedir() is not, so HOME paths are passed explicitly).
  process.env.CLAUDEMESH_HOME = cmHome;
});
afterEach(() => {
  if (savedCmHome === undefined) delete process.env.CLAUDEMESH_HOME;
  else process.env.CLAUDEMESH_HOME = savedCmHome;
  t.cleanup();
});

const writeConfig = (meshes: MeshConfig[]) => writeSecretFile(join(cmHome, "config.json"), JSON.stringify({ version: 1, meshes }, null, 2));

function fakeClaude(versionLine: string): string {
  const p = join(t.path, "old-claude");
  writeFileSync(p, `#!/bin/sh\necho '${versionLine}'\n`);
  chmodSync(p, 0o755);
  return p;
}

async function doctor(env: Record<string, string> = {}) {
  const p = Bun.spawn([BUN, MAIN, "doctor"], {
    cwd: REPO,
    // IS_SANDBOX=1: as root (CI's containers), `launch` could not run Claude Code without it (checkRootLaunch)
    env: { PATH: process.env.PATH ?? "", HOME: home, CLAUDEMESH_HOME: cmHome, CLAUDEMESH_CLAUDE_BIN: REAL_CLAUDE, IS_SANDBOX: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr, lines: stdout.split("\n") };
}

describe("doctor (CLI)", () => {
  test("all green against a live broker, including a message to itself", async () => {
    writeConfig([mesh.owner]);
    const r = await doctor();
    expect(r.stderr).toBe("");
    const find = (prefix: string) => r.lines.find((l) => l.startsWith(prefix));
    expect(find("ok    claude binary: 2.1.")).toBeDefined();
    expect(find("ok    MCP server (user scope): not registered")).toContain("launch` wires it per session");
    expect(find("ok    hooks (user scope): not registered")).toBeDefined();
    expect(find("ok    config dir permissions")).toBeDefined();
    expect(find("ok    config file permissions")).toBeDefined();
    // only a root user has something to be told about `launch`
    if (process.getuid?.() === 0) expect(find("ok    launch as root")).toContain("IS_SANDBOX=1");
    else expect(r.stdout).not.toContain("launch as root");
    expect(find("ok    meshes joined: dev-team")).toBeDefined();
    expect(find("ok    broker for dev-team")).toMatch(/rtt \d+ms, clock skew [+-]\d+ms/);
    expect(find("ok    round trip in dev-team")).toMatch(/pushed back and decrypted in \d+ms/);
    expect(r.stdout).toContain("All checks passed.");
    expect(r.code).toBe(0);
  });

  test("after install, registration is checked rather than noted", async () => {
    writeConfig([mesh.owner]);
    const inst = Bun.spawnSync([BUN, MAIN, "install"], { cwd: REPO, env: { PATH: process.env.PATH ?? "", HOME: home, CLAUDEMESH_HOME: cmHome } });
    expect(inst.exitCode).toBe(0);
    const r = await doctor();
    expect(r.lines.find((l) => l.startsWith("ok    MCP server (user scope): registered"))).toBeDefined();
    expect(r.lines.find((l) => l.startsWith("ok    hooks (user scope): SessionStart, UserPromptSubmit, PreToolUse, Stop"))).toBeDefined();
    expect(r.code).toBe(0);
  });

  test("failures: unreachable broker, loose permissions, old claude — each with a hint, non-zero exit", async () => {
    const gone = await startTestBroker("sqlite");
    const goneMesh = await createMesh(gone, "gone");
    await gone.destroy();
    writeConfig([mesh.owner, goneMesh.owner]);
    chmodSync(join(cmHome, "config.json"), 0o644);
    chmodSync(cmHome, 0o755);
    const r = await doctor({ CLAUDEMESH_CLAUDE_BIN: fakeClaude("2.0.14 (Claude Code)"), IS_SANDBOX: "yes" });
    expect(r.code).toBe(1);
    const line = (prefix: string) => r.lines.find((l) => l.startsWith(prefix)) ?? `(no line starting "${prefix}")\n${r.stdout}`;
    if (process.getuid?.() === 0) expect(line("FAIL  launch as root")).toContain("→ run `claudemesh launch` as a normal user");
    expect(line("FAIL  claude binary")).toContain("2.0.14");
    expect(line("FAIL  claude binary")).toContain("→ update Claude Code");
    expect(line("FAIL  config dir permissions")).toContain(`→ chmod 700 ${cmHome}`);
    expect(line("FAIL  config file permissions")).toContain(`→ chmod 600 ${join(cmHome, "config.json")}`);
    expect(line("FAIL  broker for gone")).toContain("unreachable");
    expect(line("FAIL  broker for gone")).toContain("→ check that the broker is running");
    // the healthy mesh still passes, and an unreachable one gets no round trip
    expect(line("ok    round trip in dev-team")).toContain("decrypted");
    expect(r.stdout).not.toContain("round trip in gone");
    expect(r.stdout).toContain("check(s) failed.");
  });

  test("no mesh joined and no claude: failing lines with what to do", async () => {
    const r = await doctor({ CLAUDEMESH_CLAUDE_BIN: join(t.path, "nope") });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL  claude binary");
    expect(r.stdout).toContain("npm install -g @anthropic-ai/claude-code");
    expect(r.stdout).toContain("FAIL  meshes joined: none yet → join one with `claudemesh join <invite-url>`");
  });
});

describe("doctor checks (functions)", () => {
  test("launch as root: only IS_SANDBOX=1 or CLAUDE_CODE_BUBBLEWRAP lets Claude Code run autonomously, as Claude Code itself decides", () => {
    expect(checkRootLaunch({}, 1000)).toBeNull();
    expect(checkRootLaunch({ IS_SANDBOX: "yes" }, 1000)).toBeNull();
    expect(checkRootLaunch({ IS_SANDBOX: "1" }, 0)?.ok).toBe(true);
    expect(checkRootLaunch({ CLAUDE_CODE_BUBBLEWRAP: "1" }, 0)?.ok).toBe(true);
    const none = checkRootLaunch({}, 0);
    expect(none).toMatchObject({ ok: false, name: "launch as root" });
    expect(none?.hint).toEndWith("set IS_SANDBOX=1");
    for (const v of ["yes", "true", "0", ""]) {
      const r = checkRootLaunch({ IS_SANDBOX: v }, 0);
      expect(r?.ok).toBe(false);
      expect(r?.hint).toContain(`IS_SANDBOX=${v} is not enough: Claude Code wants exactly 1`);
    }
  });

  test("version parsing and the channels threshold", () => {
    expect(parseVersion("2.1.197 (Claude Code)")).toEqual([2, 1, 197]);
    expect(parseVersion("no version")).toBeNull();
    expect(versionAtLeast([2, 1, 0], "2.1.0")).toBe(true);
    expect(versionAtLeast([2, 0, 99], "2.1.0")).toBe(false);
    expect(versionAtLeast([3, 0, 0], "2.1.0")).toBe(true);
    expect(versionAtLeast([1, 9, 9], "2.1.0")).toBe(false);
  });

  test("claude check reads CLAUDEMESH_CLAUDE_BIN: the version, below the minimum a failure, above the newest verified a note", async () => {
    const check = (out: string) => checkClaude({ ...process.env, CLAUDEMESH_CLAUDE_BIN: fakeClaude(out) });
    const oldest = await check(`${MIN_CLAUDE_VERSION} (Claude Code)`);
    expect(oldest.ok).toBe(true);
    expect(oldest.detail).toContain(`${MIN_CLAUDE_VERSION} at `);
    expect(oldest.detail).toContain(`supported ${MIN_CLAUDE_VERSION}–${NEWEST_VERIFIED_CLAUDE_VERSION}`);
    const newest = await check(`${NEWEST_VERIFIED_CLAUDE_VERSION} (Claude Code)`);
    expect(newest.ok).toBe(true);
    expect(newest.detail).not.toContain("newer than");
    const newer = await check("2.2.0 (Claude Code)");
    expect(newer.ok).toBe(true);
    expect(newer.detail).toContain(`2.2.0 at `);
    expect(newer.detail).toContain(`newer than the newest verified (${NEWEST_VERIFIED_CLAUDE_VERSION})`);
    for (const out of ["2.1.196 (Claude Code)", "2.1.5 (Claude Code)", "1.0.0"]) {
      const old = await check(out);
      expect(old).toMatchObject({ ok: false, name: "claude binary" });
      expect(old.detail).toContain(`needs Claude Code ${MIN_CLAUDE_VERSION} or newer`);
      expect(old.hint).toContain("update");
    }
  });

  test("a registration whose command no longer exists fails with a reinstall hint", () => {
    writeFileSync(
      join(home, ".claude.json"),
      JSON.stringify({ mcpServers: { claudemesh: { type: "stdio", command: "/gone/claudemesh", args: ["mcp"], env: {} } } }),
    );
    const r = checkMcpRegistration(join(home, ".claude.json"));
    expect(r.ok).toBe(false);
    expect(r.hint).toContain("claudemesh install");
  });

  test("hooks registered for only some events fail", () => {
    mkdirSync(join(home, ".claude"));
    writeFileSync(
      join(home, ".claude", "settings.json"),
      JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: "command", command: "/x/claudemesh hook idle" }] }] } }),
    );
    const r = checkHooksRegistration(join(home, ".claude", "settings.json"));
    expect(r.ok).toBe(false);
    expect(r.detail).toContain("only Stop");
  });

  test("permissions: 0600 file in a 0700 dir pass; anything looser fails", () => {
    writeConfig([mesh.owner]);
    expect(checkPermissions().every((c) => c.ok)).toBe(true);
    chmodSync(join(cmHome, "config.json"), 0o640);
    const bad = checkPermissions().find((c) => c.name === "config file permissions");
    expect(bad).toMatchObject({ ok: false, hint: `chmod 600 ${join(cmHome, "config.json")}` });
  });

  test("broker and round trip against a live broker; an unreachable broker fails", async () => {
    expect((await checkBroker(mesh.owner)).ok).toBe(true);
    const usage = () => brokerRequest(broker.url, "GET", `/meshes/${mesh.meshId}/usage`, UsageResponse, { auth: { kind: "admin", token: broker.adminToken } });
    const before = (await usage()).stored.messages;
    expect((await checkRoundTrip(mesh.owner)).ok).toBe(true);
    // its message was surfaced and freed before the check answered: nothing is left waiting for a session that is gone
    expect((await usage()).stored.messages).toBe(before);
    const nowhere = { ...mesh.owner, slug: "nowhere", brokerUrl: "http://127.0.0.1:9" };
    const r = await checkBroker(nowhere, 2000);
    expect(r).toMatchObject({ ok: false, name: "broker for nowhere" });
    expect(r.hint).toBeDefined();
  });
});
