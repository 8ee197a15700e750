import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { addMember, connect } from "../helpers/broker.ts";
import { TmuxSession } from "../helpers/tmux.ts";
import { waitUntil } from "../helpers/wait.ts";
import { BUN, fileExists, type LaunchEnv, launchSuite, MAIN, REPO } from "./helpers.ts";

/**
 * The launch wizard in a real terminal: tmux runs `claudemesh launch` from source with a fake claude,
 * types the answers, and reads the screen. Every wait is for something to appear, never a fixed delay.
 */

const NOTICE =
  "Autonomous mode Claude will send and receive peer messages without asking you first. Peers exchange text only — no file access, no tool calls, no code execution.";
const squash = (s: string) => s.replace(/\s+/g, " ");

/** The argv launch must hand to claude, spelled out independently of the code under test. */
function expectedArgv(dir: string, passthrough: string[] = []): string[] {
  return [
    "--mcp-config",
    join(dir, "mcp-config.json"),
    "--dangerously-load-development-channels",
    "server:claudemesh",
    "--settings",
    join(dir, "settings.json"),
    "--dangerously-skip-permissions",
    ...passthrough,
  ];
}

const suite = launchSuite();
const { setup } = suite;

beforeAll(async () => {
  // Two peers online in dev-team, so the wizard has something to report.
  await connect(await addMember(suite.broker, suite.devTeam, "peer-one"));
  await connect(await addMember(suite.broker, suite.devTeam, "peer-two"));
});

/**
 * `claudemesh launch` from source in a 100x40 window; its exit status is recorded for `exitCode`. The tmux
 * server lives in the env's temp dir: deferred after the env, it is stopped before that is removed.
 */
function start(e: LaunchEnv, args: string[]): TmuxSession {
  const pane = TmuxSession.start("wizard", [BUN, MAIN, "launch", ...args], { env: e.env, cwd: REPO, dir: e.root, cols: 100, rows: 40, run: "exit-file" });
  suite.defer(() => pane.stop());
  return pane;
}

/** After claude ran: its session dir was private while it ran, and is gone now. */
function expectSessionCleanedUp(e: LaunchEnv, dir: string): void {
  expect(dir.startsWith(e.sessionsDir + "/")).toBe(true);
  expect(existsSync(dir)).toBe(false);
  expect(readdirSync(e.sessionsDir)).toEqual([]);
}

describe("launch wizard (tmux)", () => {
  test("no flags: the full wizard, one line per question, the single mesh auto-selected with its peers", async () => {
    const e = setup([suite.devTeam], { FAKE_CLAUDE_EXIT: "7", FAKE_CLAUDE_READ_LINE: "1" });
    const pane = start(e, []);
    await pane.waitFor("Name: ");
    pane.type("Alice");
    pane.press("Enter");
    await pane.waitFor("Mesh: dev-team (2 peers online)");
    await pane.waitFor("Role (optional): ");
    pane.type("dev");
    pane.press("Enter");
    await pane.waitFor("Groups (optional): ");
    pane.type("frontend:lead, reviewers");
    pane.press("Enter");
    await pane.waitFor("Continue? [Y/n]");
    pane.press("Enter");
    // The terminal now belongs to claude: what is typed reaches it, not the launcher.
    await pane.waitFor("fake claude> ");
    pane.type("hello claude");
    pane.press("Enter");
    expect(await pane.exitCode()).toBe(7);

    const screen = pane.history();
    const lines = screen.split("\n").map((l) => l.trimEnd());
    for (const line of [
      "Name: Alice",
      "Mesh: dev-team (2 peers online)",
      "Role (optional): dev",
      "Groups (optional): frontend:lead, reviewers",
      "Continue? [Y/n] yes",
    ]) {
      expect(lines).toContain(line);
    }
    expect(squash(screen)).toContain(NOTICE);

    const rec = e.record();
    const dir = rec.sessionDirEnv as string;
    expect(rec.argv).toEqual(expectedArgv(dir));
    expect(rec.line).toBe("hello claude");
    expect(rec.stdinIsTTY).toBe(true);
    expect(rec.sessionDirMode).toBe(0o700);
    expect(rec.homeEnv).toBe(e.cmHome);
    expect(rec.session).toMatchObject({ version: 1, meshSlug: "dev-team", displayName: "Alice", role: "dev", groups: "frontend:lead,reviewers" });
    expect(rec.session.sessionKey.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(rec.mcpConfig).toEqual({
      mcpServers: { claudemesh: { command: BUN, args: [MAIN, "mcp"], env: { CLAUDEMESH_SESSION_DIR: dir, CLAUDEMESH_HOME: e.cmHome } } },
    });
    const hook = (state: string) => [{ hooks: [{ type: "command", command: `${BUN} ${MAIN} hook ${state}` }] }];
    expect(rec.settings).toEqual({
      hooks: { SessionStart: hook("context"), UserPromptSubmit: hook("working"), PreToolUse: hook("working"), Stop: hook("idle") },
    });
    expectSessionCleanedUp(e, dir);
  });

  test("partial flags: only the missing questions are asked; an empty Enter leaves an optional field empty", async () => {
    const e = setup([suite.devTeam]);
    const pane = start(e, ["--name", "Bob", "--groups", "all"]);
    await pane.waitFor("Role (optional): ");
    pane.press("Enter");
    await pane.waitFor("Continue? [Y/n]");
    pane.type("y");
    expect(await pane.exitCode()).toBe(0);
    const screen = pane.history();
    expect(screen).not.toContain("Name:");
    expect(screen).not.toContain("Groups (optional)");
    const rec = e.record();
    expect(rec.session).toMatchObject({ displayName: "Bob", role: null, groups: "all", meshSlug: "dev-team" });
    expect(rec.argv).toEqual(expectedArgv(rec.sessionDirEnv as string));
    expectSessionCleanedUp(e, rec.sessionDirEnv as string);
  });

  test("Name: offers the member's own name; Enter takes it. The notice says permission prompts are skipped", async () => {
    const e = setup([suite.devTeam]);
    const own = suite.devTeam.owner.displayName;
    const pane = start(e, ["--groups", "", "--role", ""]);
    await pane.waitFor(`Name: █ ${own}`);
    pane.press("Enter");
    await pane.waitFor("Continue? [Y/n]");
    pane.press("Enter");
    expect(await pane.exitCode()).toBe(0);
    const screen = pane.history();
    expect(screen).toContain(`Name: ${own}\n`);
    expect(squash(screen)).toContain(
      "Claude Code itself runs with permission prompts skipped (--dangerously-skip-permissions): it uses its tools without asking you.",
    );
    expect(e.record().session).toMatchObject({ displayName: own });
  });

  test("empty Enter on both optional fields", async () => {
    const e = setup([suite.devTeam]);
    const pane = start(e, ["--name", "Dave"]);
    await pane.waitFor("Role (optional): ");
    pane.press("Enter");
    await pane.waitFor("Groups (optional): ");
    pane.press("Enter");
    await pane.waitFor("Continue? [Y/n]");
    pane.press("Enter");
    expect(await pane.exitCode()).toBe(0);
    expect(e.record().session).toMatchObject({ displayName: "Dave", role: null, groups: "" });
  });

  test("-y with every flag: no question at all, pass-through args after ours, user's dangerous flags not doubled", async () => {
    const e = setup([suite.devTeam], { FAKE_CLAUDE_EXIT: "3" });
    const pane = start(e, [
      "--name",
      "Carol",
      "--role",
      "pm",
      "--groups",
      "dealers:lead,all",
      "-y",
      "--",
      "--append-system-prompt",
      "You are Carol, a PM.",
      "--dangerously-skip-permissions",
      "--dangerously-load-development-channels",
      "server:claudemesh",
      "--verbose",
    ]);
    expect(await pane.exitCode()).toBe(3);
    const screen = pane.history();
    for (const q of ["Name:", "Role (optional)", "Groups (optional)", "Continue?", "Autonomous mode"]) expect(screen).not.toContain(q);
    expect(screen).toContain("Mesh: dev-team (2 peers online)");
    const rec = e.record();
    expect(rec.argv).toEqual(expectedArgv(rec.sessionDirEnv as string, ["--append-system-prompt", "You are Carol, a PM.", "--verbose"]));
    expect(rec.session).toMatchObject({ displayName: "Carol", role: "pm", groups: "dealers:lead,all" });
    expectSessionCleanedUp(e, rec.sessionDirEnv as string);
  });

  test("two meshes: a select, one line per mesh, folded to the choice", async () => {
    const e = setup([suite.devTeam, suite.ops]);
    const pane = start(e, ["--name", "Erin", "--role", "ops", "--groups", "oncall"]);
    await pane.waitFor(/dev-team \(2 peers online\)\n\s+ops \(0 peers online\)/);
    pane.press("Down");
    pane.press("Enter");
    await pane.waitFor("Mesh: ops (0 peers online)");
    await pane.waitFor("Continue? [Y/n]");
    pane.press("Enter");
    expect(await pane.exitCode()).toBe(0);
    expect(e.record().session).toMatchObject({ meshSlug: "ops", displayName: "Erin" });
  });

  test("a bad name is refused in place and can be corrected", async () => {
    const e = setup([suite.devTeam]);
    const pane = start(e, ["--role", "dev", "--groups", ""]);
    await pane.waitFor("Name: ");
    pane.type("@alice");
    pane.press("Enter");
    await pane.waitFor("must not start with @");
    for (let i = 0; i < 6; i++) pane.press("BSpace");
    pane.type("alice");
    pane.press("Enter");
    await pane.waitFor("Continue? [Y/n]");
    pane.press("Enter");
    expect(await pane.exitCode()).toBe(0);
    expect(e.record().session).toMatchObject({ displayName: "alice", role: "dev", groups: "" });
  });

  test("Ctrl-C in the wizard: exit 130, claude never started, no session dir", async () => {
    const e = setup([suite.devTeam]);
    const pane = start(e, []);
    await pane.waitFor("Name: ");
    pane.press("C-c");
    expect(await pane.exitCode()).toBe(130);
    expect(existsSync(e.out)).toBe(false);
    expect(existsSync(e.sessionsDir) ? readdirSync(e.sessionsDir) : []).toEqual([]);
  });

  test("Ctrl-C at the confirmation, after every answer: still nothing left behind", async () => {
    const e = setup([suite.devTeam]);
    const pane = start(e, ["--name", "Frank", "--role", "", "--groups", ""]);
    await pane.waitFor("Continue? [Y/n]");
    pane.press("C-c");
    expect(await pane.exitCode()).toBe(130);
    expect(existsSync(e.out)).toBe(false);
    expect(existsSync(e.sessionsDir) ? readdirSync(e.sessionsDir) : []).toEqual([]);
  });

  test("declining autonomous mode launches nothing", async () => {
    const e = setup([suite.devTeam]);
    const pane = start(e, ["--name", "Gina", "--role", "", "--groups", ""]);
    await pane.waitFor("Continue? [Y/n]");
    pane.type("n");
    expect(await pane.exitCode()).toBe(1);
    expect(pane.history()).toContain("Continue? [Y/n] no");
    expect(existsSync(e.out)).toBe(false);
  });

  test("--quiet skips the banner and the mesh line but still asks what is missing", async () => {
    const e = setup([suite.devTeam]);
    const pane = start(e, ["--quiet", "--role", "", "--groups", ""]);
    await pane.waitFor("Name: ");
    pane.type("Hank");
    pane.press("Enter");
    await pane.waitFor("Continue? [Y/n]");
    pane.press("Enter");
    expect(await pane.exitCode()).toBe(0);
    const screen = pane.history();
    expect(screen).not.toContain("claudemesh 0.");
    expect(screen).not.toContain("Mesh:");
    expect(screen).not.toContain("Starting Claude Code");
    await waitUntil("record", () => fileExists(e.out));
  });
});
