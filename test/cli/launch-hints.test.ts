import { beforeAll, describe, expect, test } from "bun:test";
import { ROOT_HINT, quickExitHint } from "../../src/launch/launch.ts";
import { ensureBinary } from "../helpers/binary.ts";
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
    if (isRoot) expect(r.stderr).toEndWith(`${ROOT_HINT}\n`);
    else expect(r.stderr).toEndWith(`${quickExitHint(1)}\n`); // not root: the refusal cannot be Claude's
    expect(r.stderr.trim().split("\n")).toHaveLength(2);
    expect(ROOT_HINT).toContain("IS_SANDBOX=1");
  });

  test("with IS_SANDBOX=1 there is no root hint; a claude that fails at once gets the generic line", async () => {
    const e = suite.setup([suite.devTeam], { FAKE_CLAUDE_EXIT: "1" });
    const r = await launch(e, { IS_SANDBOX: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${quickExitHint(1)}\n`);
    expect(r.stderr).toContain("network, API key or login");
  });

  test("a claude that ends well gets no hint at all", async () => {
    const e = suite.setup([suite.devTeam]);
    const r = await launch(e);
    expect(r).toMatchObject({ code: 0, stderr: "" });
  });
});
