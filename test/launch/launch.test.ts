import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inviteUrl } from "../../src/protocol/invite-url.ts";
import { waitUntil } from "../helpers/wait.ts";
import { BUN, fileExists, type LaunchEnv, launchSuite, MAIN, REPO } from "./helpers.ts";

/** launch without a terminal (scripts, CI): flags only, stdin not a TTY. */

const suite = launchSuite();
const { setup } = suite;

function spawnLaunch(e: LaunchEnv, args: string[]) {
  return Bun.spawn([BUN, MAIN, "launch", ...args], { cwd: REPO, env: e.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}

async function runLaunch(e: LaunchEnv, args: string[]) {
  const p = spawnLaunch(e, args);
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr };
}

const sessionDirs = (e: LaunchEnv) => (existsSync(e.sessionsDir) ? readdirSync(e.sessionsDir) : []);

describe("launch without a terminal", () => {
  test("a missing answer fails at once with the flags to pass, instead of hanging", async () => {
    const e = setup([suite.devTeam, suite.ops]);
    const r = await runLaunch(e, []);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("stdin is not a terminal");
    expect(r.stderr).toContain("--name");
    expect(r.stderr).toContain("--mesh");
    expect(r.stderr).toContain("-y");
    expect(existsSync(e.out)).toBe(false);
    expect(sessionDirs(e)).toEqual([]);
  });

  test("-y with flags: claude's exit code is returned, the argv is exact", async () => {
    const e = setup([suite.devTeam], { FAKE_CLAUDE_EXIT: "42" });
    const r = await runLaunch(e, ["--name", "Alice", "--groups", "frontend:lead", "-y", "--", "--append-system-prompt", "be brief", "fix it"]);
    expect(r.code).toBe(42);
    const rec = e.record();
    const dir = rec.sessionDirEnv as string;
    expect(rec.argv).toEqual([
      "--mcp-config",
      join(dir, "mcp-config.json"),
      "--dangerously-load-development-channels",
      "server:claudemesh",
      "--settings",
      join(dir, "settings.json"),
      "--dangerously-skip-permissions",
      "--append-system-prompt",
      "be brief",
      "fix it",
    ]);
    expect(rec.sessionDirMode).toBe(0o700);
    expect(rec.session).toMatchObject({ displayName: "Alice", role: null, groups: "frontend:lead", launcherPid: expect.any(Number) });
    expect(existsSync(dir)).toBe(false);
    // launch records claude's pid, so hooks of a claude nested inside this session can tell they are not its
    expect(rec.claudePidFile).toBe(String(rec.pid));
    // the guide the MCP instructions point to exists even without `install`
    expect(readFileSync(join(rec.homeEnv as string, "CLAUDEMESH.md"), "utf8")).toStartWith("# claudemesh");
  });

  test("claude's env names the launcher, so the session's own hooks act and another claudemesh's stand aside", async () => {
    const e = setup([suite.devTeam]);
    const r = await runLaunch(e, ["--name", "A", "-y", "--quiet"]);
    expect(r.code).toBe(0);
    const rec = e.record();
    expect(rec.launcherEnv).toBe(JSON.stringify([BUN, MAIN]));
    const hook = (launcher: string) => {
      const command = rec.settings.hooks.SessionStart[0].hooks[0].command as string;
      const env = { PATH: e.env.PATH as string, CLAUDEMESH_SESSION_DIR: rec.sessionDirEnv as string, CLAUDEMESH_LAUNCHER: launcher };
      return Bun.spawnSync(["sh", "-c", command], { env, stdin: "ignore" }).stdout.toString();
    };
    expect(JSON.parse(hook(rec.launcherEnv as string)).hookSpecificOutput.hookEventName).toBe("SessionStart");
    expect(hook(JSON.stringify(["/elsewhere/bin/claudemesh"]))).toBe("");
  });

  test("the user's own --settings is merged into ours (claude keeps only one), so status hooks survive", async () => {
    const e = setup([suite.devTeam]);
    const r = await runLaunch(e, [
      "--name",
      "A",
      "-y",
      "--quiet",
      "--",
      "--settings",
      '{"model":"opus","hooks":{"Stop":[{"hooks":[{"type":"command","command":"say done"}]}]}}',
      "go",
    ]);
    expect(r.code).toBe(0);
    const rec = e.record();
    expect(rec.argv.filter((a) => a === "--settings")).toHaveLength(1);
    expect(rec.argv.at(-1)).toBe("go");
    expect(rec.settings.model).toBe("opus");
    expect(rec.settings.hooks.Stop.map((g: any) => g.hooks[0].command)).toEqual(["say done", expect.stringMatching(/hook idle$/)]);
    expect(Object.keys(rec.settings.hooks).sort()).toEqual(["PreToolUse", "SessionStart", "Stop", "UserPromptSubmit"]);
    const bad = await runLaunch(e, ["--name", "A", "-y", "--quiet", "--", "--settings", "/no/such/file.json"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe("claudemesh: --settings: no such file /no/such/file.json");
  });

  test("piped stdin reaches claude untouched (scripted `-- -p` use)", async () => {
    const e = setup([suite.devTeam], { FAKE_CLAUDE_READ_LINE: "1" });
    const p = Bun.spawn([BUN, MAIN, "launch", "--name", "A", "-y", "--quiet"], {
      cwd: REPO,
      env: e.env,
      stdin: new Blob(["hello piped\n"]),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await p.exited).toBe(0);
    expect(e.record().line).toBe("hello piped");
  });

  test("-y alone: the member's display name, no role or groups", async () => {
    const e = setup([suite.devTeam]);
    const r = await runLaunch(e, ["-y", "--quiet"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(e.record().session).toMatchObject({ displayName: suite.devTeam.owner.displayName, role: null, groups: "", meshSlug: "dev-team" });
  });

  test("-y with several meshes and no --mesh is an error; --mesh picks one", async () => {
    const e = setup([suite.devTeam, suite.ops]);
    const bad = await runLaunch(e, ["--name", "A", "-y"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--mesh");
    const good = await runLaunch(e, ["--name", "A", "--mesh", "ops", "-y", "--quiet"]);
    expect(good.code).toBe(0);
    expect(e.record().session.meshSlug).toBe("ops");
  });

  test("bad flag values are refused before anything happens", async () => {
    const e = setup([suite.devTeam]);
    for (const [args, needle] of [
      [["--name", "@x", "-y"], "--name"],
      [["--name", "A", "--groups", "bad group!", "-y"], "--groups"],
      [["--name", "A", "--mesh", "nope", "-y"], 'not joined a mesh named "nope"'],
    ] as const) {
      const r = await runLaunch(e, [...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(needle);
    }
    expect(existsSync(e.out)).toBe(false);
    expect(sessionDirs(e)).toEqual([]);
  });

  test("--broker pins the session: its session file names that one URL; a URL that is not http(s) is refused before anything happens", async () => {
    const e = setup([suite.devTeam]);
    const r = await runLaunch(e, ["--name", "A", "--broker", "http://10.0.0.2:7900/", "-y"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("on http://10.0.0.2:7900 only");
    expect(e.record().session.broker).toBe("http://10.0.0.2:7900");
    const bad = await runLaunch(e, ["--name", "B", "--broker", "10.0.0.2:7900", "-y"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--broker must be a broker's http:// or https:// URL");
    expect(sessionDirs(e)).toEqual([]);
    const plain = await runLaunch(e, ["--name", "C", "-y"]);
    expect(plain.code).toBe(0);
    expect(e.record().session.broker).toBeUndefined();
  });

  test("no mesh joined: says how to join", async () => {
    const e = setup([]);
    const r = await runLaunch(e, []);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("claudemesh join <invite-url>");
  });

  test("no claude binary: a clear error, nothing left behind", async () => {
    const e = setup([suite.devTeam], { CLAUDEMESH_CLAUDE_BIN: "/nonexistent/claude" });
    const r = await runLaunch(e, ["--name", "A", "-y"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Claude Code not found");
    expect(r.stderr).toContain("CLAUDEMESH_CLAUDE_BIN");
    expect(sessionDirs(e)).toEqual([]);
  });

  test("--join joins first, then launches in the joined mesh", async () => {
    const e = setup([]);
    const url = inviteUrl(suite.broker.url, suite.devTeam.inviteToken, suite.devTeam.rootKey);
    const r = await runLaunch(e, ["--join", url, "--name", "Ivy", "-y"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Joined mesh dev-team as Ivy");
    const config = JSON.parse(readFileSync(join(e.cmHome, "config.json"), "utf8"));
    expect(config.meshes.map((m: { slug: string }) => m.slug)).toEqual(["dev-team"]);
    expect(e.record().session).toMatchObject({ meshSlug: "dev-team", displayName: "Ivy" });
  });

  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    test(`${sig} to the launcher reaches claude; its exit code comes back and the session dir goes`, async () => {
      const e = setup([suite.devTeam], { FAKE_CLAUDE_WAIT_SIGNAL: "1" });
      const p = spawnLaunch(e, ["--name", "A", "-y", "--quiet"]);
      await waitUntil("fake claude to start", () => fileExists(`${e.out}.ready`));
      expect(sessionDirs(e)).toHaveLength(1);
      p.kill(sig);
      const code = await p.exited;
      const rec = e.record();
      expect(rec.signal).toBe(sig);
      expect(code).toBe(128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[sig]);
      expect(sessionDirs(e)).toEqual([]);
    });
  }

  test("orphaned session dirs (over an hour old, launcher gone) are removed at start; live or recent ones stay", async () => {
    const e = setup([suite.devTeam]);
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    const hourAgo = Date.now() - 61 * 60 * 1000;
    const make = (name: string, info: object | null) => {
      const dir = join(e.sessionsDir, name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (info) writeFileSync(join(dir, "session.json"), JSON.stringify(info));
      return dir;
    };
    const orphan = make("s-orphan", { createdAt: hourAgo, launcherPid: dead.pid });
    const alive = make("s-alive", { createdAt: hourAgo, launcherPid: process.pid });
    const recent = make("s-recent", { createdAt: Date.now(), launcherPid: dead.pid });
    const r = await runLaunch(e, ["--name", "A", "-y", "--quiet"]);
    expect(r.code).toBe(0);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(alive)).toBe(true);
    expect(existsSync(recent)).toBe(true);
  });

  test("launch --help shows launch's usage and launches nothing", async () => {
    const e = setup([suite.devTeam]);
    const r = await runLaunch(e, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--groups");
    expect(existsSync(e.out)).toBe(false);
  });
});
