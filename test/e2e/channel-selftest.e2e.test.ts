/**
 * Harness self-test: the real Claude Code CLI, in tmux, against the scripted fake API, with a minimal
 * channel MCP server of our own (no claudemesh code). Proves the mechanics the mesh suite relies on: the
 * gate opens offline, the dialogs are passed, and a channel notification
 * makes an idle session start a turn whose request carries `<channel source="selftest" …>`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/backends.ts";
import {
  channelNotifications,
  claudeAtLeast,
  claudeBin,
  claudeEnv,
  claudeVersion,
  describeRealClaude,
  makeClaudeHome,
  markE2ERan,
  readDebugLog,
  tail,
} from "./claude-env.ts";
import { FakeAnthropic, newChannelBlocks, text } from "./fake-anthropic.ts";
import type { TmuxSession } from "../helpers/tmux.ts";
import { passClaudeDialogs, startClaude } from "./claude-tmux.ts";

describeRealClaude("e2e harness self-test: a channel push starts a turn in the real claude", () => {
  let dir: ReturnType<typeof tempDir>;
  let fake: FakeAnthropic;
  let pane: TmuxSession | null = null;
  let debugFile = "";
  let trigger = "";
  let ok = false;

  beforeAll(() => {
    dir = tempDir("cm-e2e-self-");
    debugFile = join(dir.path, "claude-debug.log");
    trigger = join(dir.path, "trigger");
    fake = new FakeAnthropic({ handler: () => text("selftest reply") });
  });

  afterAll(async () => {
    if (!ok) {
      console.error(`--- pane ---\n${pane?.history() ?? "(none)"}`);
      console.error(`--- claude debug log (tail) ---\n${tail(debugFile)}`);
      console.error(`--- requests ---\n${fake?.dump()}`);
    }
    await pane?.stop();
    fake?.stop();
    dir?.cleanup();
  });

  test("notification → new turn with <channel source=…> in the request", async () => {
    const home = makeClaudeHome(dir.path);
    const project = join(dir.path, "project");
    mkdirSync(project);
    const mcpConfig = join(dir.path, "mcp.json");
    writeFileSync(
      mcpConfig,
      JSON.stringify({
        mcpServers: { selftest: { command: process.execPath, args: [join(import.meta.dir, "fixtures/channel-server.ts")], env: { CHANNEL_TRIGGER: trigger } } },
      }),
    );
    const argv = [
      claudeBin() as string,
      "--debug-file",
      debugFile,
      "--mcp-config",
      mcpConfig,
      "--dangerously-load-development-channels",
      "server:selftest",
      "--dangerously-skip-permissions",
    ];
    pane = startClaude("selftest", argv, { env: claudeEnv({ home, apiUrl: fake.url }), cwd: project, dir: dir.path });

    const dialogs = await passClaudeDialogs(pane);
    console.log(`[e2e selftest] claude ${claudeVersion()}: dialogs answered: ${dialogs.join(" → ")}`);
    expect(dialogs).toContain("development channels");
    // A notification sent before registration would be dropped: wait for the CLI to say it listens.
    await waitForFile(debugFile, /MCP server "selftest": Channel notifications registered/);
    expect(fake.main()).toHaveLength(0);

    const sentAt = Date.now();
    // Written aside and renamed: the server polls for the file, and a plain write could be seen
    // created but still empty (it was, once in CI).
    writeFileSync(`${trigger}.tmp`, "hello from the selftest channel");
    renameSync(`${trigger}.tmp`, trigger);
    const req = await fake.waitFor("a main request with a channel block", (r) => r.kind === "main" && newChannelBlocks(r.body).length > 0, 20_000);
    const [block] = newChannelBlocks(req.body);
    expect(block).toEqual({
      source: "selftest",
      attrs: { source: "selftest", from_name: "Selftest", kind: "direct" },
      text: "hello from the selftest channel",
    });
    expect(req.receivedAt).toBeGreaterThanOrEqual(sentAt);
    await pane.waitFor("selftest reply", 10_000);
    // The debug log shows the notification: with its text up to 2.1.327, its length from 2.1.328.
    const sent = "hello from the selftest channel";
    expect(channelNotifications(readDebugLog(debugFile))).toEqual([{ chars: sent.length, text: claudeAtLeast("2.1.328") ? null : sent }]);
    ok = true;
    markE2ERan("channel-selftest.e2e: a channel push starts a turn");
  }, 90_000);
});

async function waitForFile(file: string, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(file) && pattern.test(readDebugLog(file)))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${file}`);
    await Bun.sleep(50);
  }
}
