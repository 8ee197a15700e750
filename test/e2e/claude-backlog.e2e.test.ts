/**
 * A long backlog read through the real Claude Code CLI: Alice, started by the compiled binary
 * (`dist/claudemesh launch --name Alice -y`) in tmux, comes back to 60 low-priority messages from Bob
 * (a plain client), ~125,000 characters in all, and her model reads them with check_messages.
 *
 * Claude Code does not pass on a tool result over MAX_MCP_OUTPUT_TOKENS (25,000 by default), asking the
 * API to count the tokens of one estimated over half of that; the fake API here counts as the estimate
 * does (a token per 4 characters of what it is sent). One result holding the whole backlog would reach
 * the model as "Error: result (144,409 characters) exceeds maximum allowed tokens. Output has been saved
 * to <file>" (seen with the paging turned off), its messages already marked surfaced. Proves that the
 * backlog arrives in parts Claude Code passes whole: every message exactly once, in order. And that a push
 * has no such limit: the longest message a send takes, 100,000 characters, reaches the model whole.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { messagingPeer, waitForPeer } from "../helpers/messaging.ts";
import { describeRealClaude, markE2ERan, reportClaudeRuns, stopClaudeRuns, waitForText } from "./claude-env.ts";
import {
  FakeAnthropic,
  identifyMeshSession,
  lastPrompt,
  lastToolResult,
  newChannelBlocks,
  type RecordedRequest,
  type Reply,
  text,
  toolUse,
} from "./fake-anthropic.ts";
import { launch, type LaunchedSession, launchedSession } from "./launched.ts";

const KICKOFF = "I was away: read the messages waiting for me.";
const DONE = "Alice: read the whole backlog.";
const COUNT = 60;
/** What Claude Code puts in place of a result over its limit (2.1.332: the result goes to a file) or after a cut one. */
const NOT_WHOLE = /exceeds maximum allowed tokens|The tool output was truncated/;
const marker = (i: number) => `backlog-item-${String(i).padStart(2, "0")}`;
const CHECK = toolUse("mcp__claudemesh__check_messages", {});
const LONG_HEAD = "the-longest-message:";
const GOT_LONG = "Alice: got the long one.";

describeRealClaude("e2e: a long backlog through check_messages in the real claude", () => {
  let root: ReturnType<typeof tempDir>;
  let broker: TestBroker;
  let fake: FakeAnthropic;
  let alice: LaunchedSession | null = null;
  const results: string[] = [];
  const unscripted: RecordedRequest[] = [];
  let passed = false;

  /** Alice's model: check_messages until nothing more waits, then a line to say so. */
  function script(req: RecordedRequest): Reply {
    if (req.session !== "Alice") {
      unscripted.push(req);
      return text("(unscripted)");
    }
    if (lastPrompt(req.body)?.includes(KICKOFF)) return CHECK;
    if (newChannelBlocks(req.body).some((c) => c.text.startsWith(LONG_HEAD))) return text(GOT_LONG);
    const r = lastToolResult(req.body);
    if (r) {
      results.push(r.text);
      return /more messages? waiting: call check_messages again/.test(r.text) ? CHECK : text(DONE);
    }
    unscripted.push(req);
    return text("(unscripted)");
  }

  beforeAll(async () => {
    root = tempDir("cm-e2e-backlog-");
    // a token per 4 characters of the request, as Claude Code's own estimate
    fake = new FakeAnthropic({ identify: identifyMeshSession, handler: script, countTokens: (body) => Math.ceil(JSON.stringify(body).length / 4) });
    broker = await startTestBroker("sqlite");
  });

  afterAll(async () => {
    reportClaudeRuns({ failed: !passed, runs: alice ? [alice] : [], fake, unscripted });
    await stopClaudeRuns(alice ? [alice] : [], { fake, broker, root });
  });

  test("60 low-priority messages, ~125,000 characters: every one reaches the model once, in order, in parts never cut; the longest message is pushed whole", async () => {
    const bin = await ensureBinary();
    const mesh = await createMesh(broker, "backlog-e2e");
    alice = launchedSession(root.path, "Alice", await addMember(broker, mesh, "Alice"));
    const bob = await messagingPeer(await addMember(broker, mesh, "Bob"));
    // tool search off: which tools a session has loaded is claude-mesh.e2e's subject
    await launch(alice, { bin, apiUrl: fake.url, tmuxName: "backlog-alice", env: { ENABLE_TOOL_SEARCH: "false" } });
    await waitForPeer(bob, "Alice", null);
    await waitForText(alice.debugFile, /MCP server "claudemesh": Channel notifications registered/);

    const filler = "The nightly build failed in the payments suite; the flaky test is quarantined. ".repeat(26);
    for (let i = 0; i < COUNT; i++) await bob.messenger.send("Alice", `${marker(i)}: ${filler}`, "low");

    alice.pane?.type(KICKOFF);
    alice.pane?.press("Enter");
    await alice.pane?.waitFor(DONE, 90_000);

    const seen = results.join("\n");
    expect(seen).not.toMatch(NOT_WHOLE);
    for (let i = 0; i < COUNT; i++) expect({ i, times: seen.split(`${marker(i)}:`).length - 1 }).toEqual({ i, times: 1 });
    const order = [...seen.matchAll(/backlog-item-(\d\d):/g)].map((m) => Number(m[1]));
    expect(order).toEqual([...Array(COUNT).keys()]);
    // in parts: several calls, the last with nothing more waiting
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(results.at(-1)).not.toMatch(/more messages? waiting/);
    expect(unscripted).toEqual([]);
    markE2ERan("claude-backlog.e2e: a 60-message backlog through check_messages, in parts never cut");

    // The longest message a send takes (100,000 characters) is pushed into the conversation whole.
    const long = `${LONG_HEAD} ${"0123456789".repeat(10_000)}`.slice(0, 100_000);
    await bob.messenger.send("Alice", long, "now");
    const woken = await fake.waitFor(
      "Alice's turn with the long message",
      (r) => r.session === "Alice" && newChannelBlocks(r.body).some((c) => c.text.startsWith(LONG_HEAD)),
    );
    const block = newChannelBlocks(woken.body).find((c) => c.text.startsWith(LONG_HEAD));
    expect(block?.text.startsWith(long)).toBe(true);
    await alice.pane?.waitFor(GOT_LONG, 60_000);
    expect(unscripted).toEqual([]);
    passed = true;
    markE2ERan("claude-backlog.e2e: a 100,000-character message pushed whole");
  }, 180_000);
});
