/**
 * End-to-end with the real Claude Code CLI: two sessions started by the compiled binary
 * (`dist/claudemesh launch --name Alice -y` / `--name Bob -y`) in tmux, a real broker, and one scripted fake
 * Messages API serving both (sessions told apart by the MCP instructions, which name the session).
 *
 * Proves, from the request bodies the model received:
 *  (a) the claudemesh guide (MCP instructions) and tools reach the model, with tool search on: the tools a
 *      peer answers with are loaded, the others deferred;
 *  (b) Alice's model calls send_message → idle Bob starts a turn by himself, with
 *      `<channel source="claudemesh" from_name="Alice" …>`, the text and the reply hint; that first request
 *      of Bob's session lists send_message, and Bob's reply is made with it;
 *  (c) Bob's reply reaches Alice the same way;
 *  (d) a `next` message sent while Bob is mid-turn is held by the broker (queued) and reaches Bob only
 *      after his Stop, in a turn of its own.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { MeshConfig } from "../../src/client/config.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { messagingPeer, type TestPeer, waitForPeer } from "../helpers/messaging.ts";
import { deferred, waitUntil } from "../helpers/wait.ts";
import {
  claudeAtLeast,
  describeRealClaude,
  expectToolSearch,
  GUIDE,
  markE2ERan,
  reportClaudeRuns,
  stopClaudeRuns,
  toolSearchOn,
  waitForText,
} from "./claude-env.ts";
import {
  FakeAnthropic,
  identifyMeshSession,
  lastPrompt,
  lastToolResult,
  mcpInstructions,
  nameInInstructions,
  newChannelBlocks,
  type RecordedRequest,
  type Reply,
  sendMessage,
  sessionApiKey,
  systemText,
  text,
} from "./fake-anthropic.ts";
import { launch, type LaunchedSession, launchedSession } from "./launched.ts";

const KICKOFF = "Please greet Bob on the mesh.";
const HELLO = "Hi Bob, Alice here: can you review the auth change?";
const REPLY = "Hi Alice, Bob here: on it, reviewing now.";
const LATE = "Carol here: FYI the build is green again.";

type Session = LaunchedSession;

describeRealClaude("e2e: two real Claude Code sessions talk through claudemesh", () => {
  let root: ReturnType<typeof tempDir>;
  let broker: TestBroker;
  let fake: FakeAnthropic;
  let carol: TestPeer;
  const sessions: Session[] = [];
  const unscripted: RecordedRequest[] = [];
  /** Bob's model "thinks" about Alice's message until the test releases it: Bob stays mid-turn. */
  const bobThinking = deferred();
  let passed = false;

  /** The script: which reply each main request gets, decided from what the model was shown. */
  async function script(req: RecordedRequest): Promise<Reply> {
    const body = req.body;
    const channels = newChannelBlocks(body);
    const result = lastToolResult(body);
    const prompt = lastPrompt(body);
    const has = (t: string) => channels.some((c) => c.text.includes(t));
    if (req.session === "Alice") {
      if (prompt?.includes(KICKOFF)) return sendMessage("Bob", HELLO);
      if (result) return text("Alice: message sent.");
      if (has(REPLY)) return text("Alice: Bob is on it.");
    }
    if (req.session === "Bob") {
      if (has(HELLO)) {
        await bobThinking.promise;
        return sendMessage("Alice", REPLY);
      }
      if (result) return text("Bob: replied to Alice.");
      if (has(LATE)) return text("Bob: noted, thanks Carol.");
    }
    unscripted.push(req);
    return text("(unscripted)");
  }

  function member(name: string, m: MeshConfig): Session {
    const s = launchedSession(root.path, name, m);
    sessions.push(s);
    return s;
  }

  const start = (s: Session, bin: string) => launch(s, { bin, apiUrl: fake.url, env: toolSearchOn() });

  beforeAll(async () => {
    root = tempDir("cm-e2e-mesh-");
    fake = new FakeAnthropic({ identify: identifyMeshSession, handler: script });
    broker = await startTestBroker("sqlite");
  });

  afterAll(async () => {
    reportClaudeRuns({
      failed: !passed,
      runs: sessions,
      fake,
      details: (s) => {
        const first = fake?.main(s.name)[0] ?? fake?.requests.find((r) => r.kind === "main" && r.headers["x-api-key"] === sessionApiKey(s.name));
        return first ? `===== ${s.name}: MCP instructions in request #${first.seq} =====\n${mcpInstructions(first.body) ?? "(none)"}` : null;
      },
      unscripted,
    });
    bobThinking.resolve();
    await stopClaudeRuns(sessions, { fake, broker, root });
  });

  test("guide reaches the model; Alice → Bob → Alice by channel push; `next` waits for Bob's Stop", async () => {
    const bin = await ensureBinary();
    const mesh = await createMesh(broker, "e2e");
    const alice = member("Alice", await addMember(broker, mesh, "Alice"));
    const bob = member("Bob", await addMember(broker, mesh, "Bob"));
    carol = await messagingPeer(await addMember(broker, mesh, "Carol"));
    const waitPeer = (name: string, status: string | null) => waitForPeer(carol, name, status);

    await Promise.all([start(alice, bin), start(bob, bin)]);
    // Both mcp processes are on the mesh.
    await waitPeer("Alice", null);
    await waitPeer("Bob", "idle");
    // Channel listeners registered (a push before that would be dropped by claude).
    for (const s of sessions) await waitForText(s.debugFile, /MCP server "claudemesh": Channel notifications registered/);

    // Alice's user asks her to greet Bob: the only keystrokes of the whole test.
    alice.pane?.type(KICKOFF);
    alice.pane?.press("Enter");

    // (a) What Alice's model saw: the claudemesh guide and tools.
    const aliceFirst = await fake.waitFor("Alice's prompt request", (r) => r.session === "Alice" && (lastPrompt(r.body) ?? "").includes(KICKOFF));
    // The full guide (CLAUDEMESH.md, embedded in the binary) arrives through launch's SessionStart hook,
    // in the very first request.
    expect(systemText(aliceFirst.body)).toContain(`SessionStart hook additional context: ${GUIDE.split("\n")[0]}`);
    expect(systemText(aliceFirst.body)).toContain(GUIDE);
    expectToolSearch(aliceFirst.body);

    // send_message ran for real in Alice's mcp.
    const aliceResult = await fake.waitFor("Alice's send_message result", (r) => r.session === "Alice" && lastToolResult(r.body) !== null);
    const sent = lastToolResult(aliceResult.body);
    expect(sent?.isError).toBe(false);
    expect(sent?.text).toMatch(/Sent msg_\S+ to Bob, priority next/);

    // (b) Idle Bob starts a turn by himself, with Alice's message in a claudemesh channel block.
    const bobFirst = await fake.waitFor(
      "Bob's turn with Alice's message",
      (r) => r.session === "Bob" && newChannelBlocks(r.body).some((c) => c.text.includes(HELLO)),
    );
    const hello = newChannelBlocks(bobFirst.body).find((c) => c.text.includes(HELLO));
    expect(hello?.source).toBe("claudemesh");
    expect(hello?.attrs).toMatchObject({ from_name: "Alice", kind: "direct", priority: "next", mesh: "e2e" });
    // The message, then the one line that tells a model with no other context how to answer it.
    expect(hello?.text).toBe(`${HELLO}\n↩ reply with claudemesh's send_message(to: "Alice")`);
    expect(lastPrompt(bobFirst.body)).toBeNull(); // nobody typed into Bob's session
    // The push started Bob's session: the first request his model ever got, and it can answer it.
    expect(fake.main("Bob")[0]?.seq).toBe(bobFirst.seq);
    expectToolSearch(bobFirst.body);
    // From 2.1.251 such a request has no MCP instructions; the SessionStart guide is there either way.
    if (!claudeAtLeast("2.1.251")) expect(nameInInstructions(bobFirst.body)).toBe("Bob");
    expect(systemText(bobFirst.body)).toContain(GUIDE);

    // (d) Bob is mid-turn (his model is still "thinking"): the broker shows him working…
    await waitPeer("Bob", "working");
    const late = await carol.messenger.send("Bob", LATE, "next");
    // …and holds Carol's `next` message for him.
    const held = await carol.messenger.status(late.messageId);
    expect(held.recipients.map((r) => r.status)).toEqual(["queued"]);
    // Bob's turn ends: reply to Alice, tool result, final text, Stop.
    bobThinking.resolve();

    // (c) Bob's reply reaches idle Alice the same way.
    const aliceSecond = await fake.waitFor(
      "Alice's turn with Bob's reply",
      (r) => r.session === "Alice" && newChannelBlocks(r.body).some((c) => c.text.includes(REPLY)),
    );
    const reply = newChannelBlocks(aliceSecond.body).find((c) => c.text.includes(REPLY));
    // (a) The MCP instructions are in Alice's conversation too. Claude Code sends them as a system
    // message: in the first request when the server connected early enough, otherwise as a later
    // "# MCP Server Instructions" system message (seen when the prompt follows the connection by ~40 ms).
    const instructions = mcpInstructions(aliceSecond.body) ?? "";
    expect(instructions).toContain("## claudemesh\n");
    expect(nameInInstructions(aliceSecond.body)).toBe("Alice");
    expect(instructions).toContain('You are "Alice" on the claudemesh mesh "e2e"');
    expect(instructions).toContain("send_message(to, message, priority?)");
    expect(instructions).toContain('<channel source="claudemesh"');
    expect(reply?.source).toBe("claudemesh");
    expect(reply?.attrs).toMatchObject({ from_name: "Bob", kind: "direct", mesh: "e2e" });

    // (d) Carol's message arrives in a turn of its own, after Bob's previous turn ended.
    const bobLate = await fake.waitFor(
      "Bob's turn with Carol's message",
      (r) => r.session === "Bob" && newChannelBlocks(r.body).some((c) => c.text.includes(LATE)),
    );
    const bobEnd = fake.main("Bob").find((r) => r.seq > bobFirst.seq && lastToolResult(r.body) !== null);
    expect(bobEnd).toBeDefined();
    const bobEndAt = bobEnd?.respondedAt as number;
    expect(bobEnd?.reply).toEqual(text("Bob: replied to Alice."));
    // Nothing of Carol's reached Bob's model while he was busy…
    for (const r of fake.main("Bob").filter((x) => x.seq < bobLate.seq)) expect(JSON.stringify(r.body)).not.toContain(LATE);
    // …it came in a request of its own, started after his previous turn's last answer…
    expect(bobLate.seq).toBeGreaterThan(bobEnd?.seq as number);
    expect(bobLate.receivedAt).toBeGreaterThanOrEqual(bobEndAt);
    expect(lastToolResult(bobLate.body)).toBeNull();
    const lateBlock = newChannelBlocks(bobLate.body).find((c) => c.text.includes(LATE));
    expect(lateBlock?.attrs).toMatchObject({ from_name: "Carol", priority: "next" });
    // …and the broker delivered it only after that turn had ended.
    const final = await carol.messenger.status(late.messageId);
    const deliveredAt = final.recipients[0]?.deliveredAt ?? 0;
    expect(deliveredAt).toBeGreaterThanOrEqual(bobEndAt);
    await waitPeer("Bob", "idle");
    // Shown to Bob's model: the broker hears it was surfaced.
    await waitUntil(
      "Carol's message surfaced",
      async () => ((await carol.messenger.status(late.messageId)).recipients[0]?.status === "surfaced" ? true : undefined),
      10_000,
    );

    expect(unscripted).toEqual([]);
    await bob.pane?.waitFor("Bob: noted, thanks Carol.", 10_000);
    await alice.pane?.waitFor("Alice: Bob is on it.", 10_000);
    passed = true;
    markE2ERan("claude-mesh.e2e: two sessions via dist/claudemesh launch, tool search on");
  }, 150_000);
});
