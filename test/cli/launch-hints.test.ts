import { beforeAll, describe, expect, test } from "bun:test";
import { quickExitHint, rootHint } from "../../src/launch/launch.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { TmuxSession } from "../helpers/tmux.ts";
import { type LaunchEnv, launchSuite } from "../launch/helpers.ts";

/** `launch` says in one line of its own why Claude Code did not start, through the compiled binary. */
const suite = launchSuite();
let bin: string;
beforeAll(async () => {
  bin = await ensureBinary();
});

async function launch(e: LaunchEnv, env: Record<string, string> = {}) {
  const p = Bun.spawn([bin, "launch", "--name", "Root", "-y", "--quiet"], { env: { ...e.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr };
}

const REFUSAL = "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons";
const isRoot = process.getuid?.() === 0;

describe("launch hints", () => {
  test(`as ${isRoot ? "root (as here)" : "a normal user"}, Claude's root refusal gets the fix from claudemesh`, async () => {
    const e = suite.setup([suite.devTeam], { FAKE_CLAUDE_STDERR: REFUSAL, FAKE_CLAUDE_EXIT: "1" });
    const r = await launch(e);
    expect(r.code).toBe(1);
    // claude's own words still reach the user, then one line of ours
    expect(r.stderr).toStartWith(`${REFUSAL}\n`);
    if (isRoot) expect(r.stderr).toEndWith(`${rootHint({})}\n`);
    else expect(r.stderr).toEndWith(`${quickExitHint(1, false)}\n`); // not root: the refusal cannot be Claude's
    expect(r.stderr.trim().split("\n")).toHaveLength(2);
    expect(rootHint({})).toContain("set IS_SANDBOX=1.");
  });

  test("IS_SANDBOX set to anything but 1 does not count, as in Claude Code: the hint says so", async () => {
    const e = suite.setup([suite.devTeam], { FAKE_CLAUDE_STDERR: REFUSAL, FAKE_CLAUDE_EXIT: "1" });
    const r = await launch(e, { IS_SANDBOX: "yes" });
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`${REFUSAL}\n`);
    if (isRoot) expect(r.stderr).toEndWith(`${rootHint({ IS_SANDBOX: "yes" })}\n`);
    else expect(r.stderr).toEndWith(`${quickExitHint(1, false)}\n`);
    expect(rootHint({ IS_SANDBOX: "yes" })).toContain("IS_SANDBOX=yes is not enough: Claude Code wants exactly 1");
  });

  test("with IS_SANDBOX=1 there is no root hint; a claude that fails at once gets the generic line", async () => {
    const e = suite.setup([suite.devTeam], { FAKE_CLAUDE_EXIT: "1" });
    const r = await launch(e, { IS_SANDBOX: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${quickExitHint(1, false)}\n`);
    // stdin is not a terminal here, which is what the line then blames
    expect(r.stderr).toContain("stdin is not a terminal");
    expect(quickExitHint(1)).toContain("network, API key or login");
  });

  test("on a terminal, a claude that fails at once is pointed at network, API key or login", async () => {
    const e = suite.setup([suite.devTeam], { FAKE_CLAUDE_EXIT: "1", IS_SANDBOX: "1" });
    const s = TmuxSession.start("hint", [bin, "launch", "--name", "Root", "-y", "--quiet"], {
      env: e.env,
      cwd: e.root,
      dir: e.root,
      cols: 400,
      rows: 20,
      run: "exit-file",
    });
    suite.defer(() => s.stop());
    expect(await s.exitCode()).toBe(1);
    const shown = s.history().replace(/\n/g, "");
    expect(shown).toContain(quickExitHint(1, true));
    expect(shown).not.toContain("stdin is not a terminal");
  });

  test("a claude that ends well gets no hint at all", async () => {
    const e = suite.setup([suite.devTeam]);
    const r = await launch(e);
    expect(r).toMatchObject({ code: 0, stderr: "" });
  });
});
