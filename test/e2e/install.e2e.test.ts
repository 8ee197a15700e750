/**
 * End-to-end with the real Claude Code CLI after `claudemesh install` (user scope: the MCP server in
 * ~/.claude.json, the hooks in ~/.claude/settings.json), in one temp HOME whose ~/.claudemesh has joined
 * one mesh as the member "Dana". A real broker, the scripted fake Messages API, and Carol (a test peer).
 *
 *  (1) plain `claude --dangerously-load-development-channels server:claudemesh`: the SessionStart hook puts
 *      the guide into the first request once, next to the MCP instructions and tools; the session is on the
 *      mesh under the member's name; Carol's message starts a turn in the idle session, and the reply the
 *      user approves reaches Carol. With no session dir, the hooks find the mcp process through Claude
 *      Code's pid (src/session/claude-socket.ts): Carol sees the session working while its model thinks,
 *      her `next` message waits for the turn's end, and the turn that message starts shows working too.
 *  (2) `claudemesh launch --name Alice -y` in the same HOME: Claude Code starts only the session's own
 *      `claudemesh mcp` (--mcp-config wins over the user-scope server of the same name), so the session is
 *      Alice and nobody is Dana; it runs each pair of identical hook commands (user scope + launch's
 *      --settings) once, so the guide is in the context once and Carol sees Alice working, then idle.
 *  (3) the same after `install` from another claudemesh (the source checkout): now the hook commands differ
 *      and Claude Code runs both, but the foreign ones stand aside in a launched session (src/mcp/
 *      hook-client.ts standsAside): the guide is still there once and the status still follows the turn.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/backends.ts";
import { BUN, ensureBinary, ROOT } from "../helpers/binary.ts";
import { addMember, closeClients, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { messagingPeer, peersOf, type TestPeer, waitForPeer } from "../helpers/messaging.ts";
import { descendants, waitAllGone } from "../helpers/procs.ts";
import { type Deferred, deferred, waitUntil } from "../helpers/wait.ts";
import {
  type ClaudeRun,
  claudeAtLeast,
  claudeBin,
  claudeEnv,
  claudeVersion,
  describeRealClaude,
  expectToolSearch,
  GUIDE,
  hookMatches,
  makeClaudeHome,
  markE2ERan,
  readDebugLog,
  readText,
  reportClaudeRuns,
  toolSearchOn,
  waitForText,
  writeMeshConfig,
} from "./claude-env.ts";
import { answerToolPrompts, passClaudeDialogs, startClaude } from "./claude-tmux.ts";
import type { TmuxSession } from "../helpers/tmux.ts";
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
  timesIn,
} from "./fake-anthropic.ts";

/** The machine's membership: what a plain `claude` session is called on the mesh. */
const MEMBER = "Dana";
const HELLO = "Carol here: is the release branch cut yet?";
const ANSWER = "Dana here: yes, release/2.0 was cut this morning.";
const KICKOFF = "Tell Carol the deploy is done.";
const DONE = (name: string) => `${name} here: the deploy is done.`;
/** Typed into plain claude: its model thinks until Carol has seen the session working. */
const ASK = "Summarise the release notes for me.";
const SUMMARY = `${MEMBER}: the release notes are summarised.`;
const LATE = "Carol here: the changelog is up too.";
const NOTED = `${MEMBER}: noted the changelog.`;
/** Carol asks a launched session; it answers with send_message. */
const PING = (name: string) => `Carol here: ${name}, which branch are you on?`;
const PONG = (name: string) => `${name} here: on main.`;
const CHANNEL_READY = /MCP server "claudemesh": Channel notifications registered/;
const STATUS_HOOKS = ["SessionStart", "UserPromptSubmit", "PreToolUse", "Stop"];

describeRealClaude("e2e: `claudemesh install`, then plain `claude` and `claudemesh launch` in the real CLI", () => {
  let root: ReturnType<typeof tempDir>;
  let broker: TestBroker;
  let fake: FakeAnthropic;
  let carol: TestPeer;
  let bin: string;
  let home: string;
  let cmHome: string;
  let project: string;
  const runs: ClaudeRun[] = [];
  const unscripted: RecordedRequest[] = [];
  /** A launched session's model "thinks" until the test has seen it working on the mesh. */
  const thinking = new Map<string, Deferred>();
  /** The plain session's model thinks about the typed prompt, then about Carol's late message. */
  const plainThinking = { ask: deferred(), late: deferred() };
  let failed = false;

  async function script(req: RecordedRequest): Promise<Reply> {
    const body = req.body;
    const channels = newChannelBlocks(body);
    const name = req.session ?? "";
    if (name === MEMBER) {
      if (lastPrompt(body)?.includes(ASK)) {
        await plainThinking.ask.promise;
        return text(SUMMARY);
      }
      if (channels.some((c) => c.text.includes(LATE))) {
        await plainThinking.late.promise;
        return text(NOTED);
      }
      if (channels.some((c) => c.text.includes(HELLO))) return sendMessage("Carol", ANSWER);
      if (lastToolResult(body)) return text(`${MEMBER}: answered Carol.`);
    } else if (thinking.has(name)) {
      if (channels.some((c) => c.text.includes(PING(name)))) return sendMessage("Carol", PONG(name));
      if (lastPrompt(body)?.includes(KICKOFF)) {
        await thinking.get(name)?.promise;
        return sendMessage("Carol", DONE(name));
      }
      if (lastToolResult(body)) return text(`${name}: told Carol.`);
    }
    unscripted.push(req);
    return text("(unscripted)");
  }

  /** `claudemesh install` as a user runs it; `via` is how that claudemesh is started. */
  function install(via: string[]): void {
    const p = Bun.spawnSync([...via, "install"], {
      cwd: project,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CLAUDEMESH_HOME: cmHome },
      stdout: "pipe",
      stderr: "pipe",
    });
    if (p.exitCode !== 0) throw new Error(`install failed (${p.exitCode}): ${p.stderr.toString()}${p.stdout.toString()}`);
  }

  const userHooks = () => JSON.parse(readFileSync(join(home, ".claude", "settings.json"), "utf8")).hooks;

  /** Starts a claude in tmux (its own debug log, verbose so hook deduplication shows) and waits until channel pushes can flow. */
  async function start(name: string, argv: (debugFile: string) => string[], extra: Record<string, string> = {}): Promise<ClaudeRun> {
    const run: ClaudeRun = { name, debugFile: join(root.path, `${name.toLowerCase()}-debug.log`), pane: null };
    runs.push(run);
    const env = claudeEnv({
      home,
      apiUrl: fake.url,
      apiKey: sessionApiKey(name),
      extra: { CLAUDE_CODE_DEBUG_LOG_LEVEL: "verbose", ...toolSearchOn(), ...extra },
    });
    run.pane = startClaude(name.toLowerCase(), argv(run.debugFile), { env, cwd: project, dir: root.path });
    await passClaudeDialogs(run.pane);
    await waitForText(run.debugFile, CHANNEL_READY);
    return run;
  }

  /** The other sessions Carol sees (a stopped session leaves once its mcp process has gone). */
  const others = async () => (await peersOf(carol)).filter((p) => !p.self).map((p) => p.name);

  /** Ends a claude and waits until nothing it started (launcher, mcp, hooks) still runs, and it has left the mesh. */
  async function stop(run: ClaudeRun): Promise<void> {
    const procs = descendants(run.pane?.pid() ?? 0);
    await run.pane?.stop();
    await waitAllGone(procs);
    await waitUntil(`${run.name} to leave the mesh`, async () => ((await others()).includes(run.name) ? undefined : true), 10_000);
  }

  beforeAll(async () => {
    root = tempDir("cm-e2e-install-");
    fake = new FakeAnthropic({ identify: identifyMeshSession, handler: script });
    broker = await startTestBroker("sqlite");
    // As claudemesh names itself in what it registers (process.execPath: symlinks resolved).
    bin = realpathSync(await ensureBinary());
    const mesh = await createMesh(broker, "e2e");
    home = makeClaudeHome(root.path);
    // Where claudemesh looks by default: plain `claude` gets no CLAUDEMESH_HOME from anyone.
    cmHome = writeMeshConfig(join(home, ".claudemesh"), [await addMember(broker, mesh, MEMBER)]);
    carol = await messagingPeer(await addMember(broker, mesh, "Carol"));
    project = join(root.path, "project");
    mkdirSync(project, { recursive: true });
    install([bin]);
  });

  afterAll(async () => {
    reportClaudeRuns({
      failed,
      runs,
      fake,
      details: (r) => {
        const first = fake?.main(r.name)[0];
        return `===== ${r.name}: hook runs =====\n${JSON.stringify(hookMatches(r.debugFile))}\n===== ${r.name}: MCP instructions in its first request =====\n${(first && mcpInstructions(first.body)) ?? "(none)"}`;
      },
      notes: [
        `===== user-scope files =====\n${readText(join(home ?? "", ".claude.json"))}\n${readText(join(home ?? "", ".claude", "settings.json"))}`,
        ...(unscripted.length ? [`===== unscripted: ${unscripted.map((r) => `#${r.seq} [${r.session}]`).join(", ")}`] : []),
      ],
    });
    for (const d of [...thinking.values(), ...Object.values(plainThinking)]) d.resolve();
    await Promise.all(runs.map((r) => r.pane?.stop()));
    closeClients();
    fake?.stop();
    await broker?.destroy();
    root?.cleanup();
  });

  /** Runs a test body; a failure keeps the evidence for afterAll's report. */
  const checked = (body: () => Promise<void>) => async () => {
    try {
      await body();
    } catch (err) {
      failed = true;
      throw err;
    }
  };

  test(
    "install + plain claude: guide once, joined as the member, a pushed message starts a turn, the reply reaches the peer; status follows the turns, `next` waits",
    checked(async () => {
      // install kept what Claude Code needs (the channel gate, onboarding) and added the server next to it.
      const claudeJson = JSON.parse(readFileSync(join(home, ".claude.json"), "utf8"));
      expect(claudeJson.cachedGrowthBookFeatures).toEqual({ tengu_harbor: true });
      expect(claudeJson.mcpServers.claudemesh).toEqual({ type: "stdio", command: bin, args: ["mcp"], env: { CLAUDEMESH_SESSION_DIR: "" } });

      // Permission mode "default": 2.1.332 starts plain claude in auto mode, whose classifier cannot run
      // against a non-Anthropic API URL (the tool call is "Not run · auto mode's check had no usable
      // answer"); in default mode the user is asked, as 2.1.197 always asks.
      const dana = await start(MEMBER, (debugFile) => [
        claudeBin() as string,
        "--dangerously-load-development-channels",
        "server:claudemesh",
        "--permission-mode",
        "default",
        "--debug-file",
        debugFile,
      ]);
      // No session dir: the mcp process joins as the member itself…
      await waitForPeer(carol, MEMBER, "idle");
      expect(await others()).toEqual([MEMBER]);
      // …and listens for the hooks at the socket named after its parent: this claude (exec'd in the pane).
      const socket = join(cmHome, "run", `${dana.pane?.pid()}.sock`);
      const listening = [...readDebugLog(dana.debugFile).matchAll(/listening for Claude Code's hooks (\{.*\})/g)].map((m) => JSON.parse(m[1] as string));
      expect(listening).toEqual([{ socket }]);
      expect(lstatSync(socket).isSocket()).toBe(true);

      const hello = await carol.messenger.send(MEMBER, HELLO, "next");
      const first = await fake.waitFor(
        "Dana's turn with Carol's message",
        (r) => r.session === MEMBER && newChannelBlocks(r.body).some((c) => c.text.includes(HELLO)),
      );
      // The idle session started this turn by itself, and it is the first thing its model ever saw.
      expect(fake.main(MEMBER)[0]?.seq).toBe(first.seq);
      expect(lastPrompt(first.body)).toBeNull();
      const block = newChannelBlocks(first.body).find((c) => c.text.includes(HELLO));
      expect(block?.source).toBe("claudemesh");
      expect(block?.attrs).toMatchObject({ from_name: "Carol", kind: "direct", priority: "next", mesh: "e2e" });
      // The first request this session's model ever got: the message says how to answer it…
      expect(block?.text).toBe(`${HELLO}\n↩ reply with claudemesh's send_message(to: "Carol")`);
      // The user-scope SessionStart hook: the whole guide, once.
      expect(systemText(first.body)).toContain(`SessionStart hook additional context: ${GUIDE.split("\n")[0]}`);
      expect(timesIn(first.body, GUIDE)).toBe(1);
      // …and the user-scope server's reply tools are loaded though tool search is on. Its instructions name
      // the member (2.1.251+ leaves them out of a request started by a push).
      expectToolSearch(first.body);
      if (!claudeAtLeast("2.1.251")) {
        expect(nameInInstructions(first.body)).toBe(MEMBER);
        expect(mcpInstructions(first.body)).toContain(`You are "${MEMBER}" on the claudemesh mesh "e2e"`);
      }

      // Plain claude may ask before the tool runs (2.1.197), or auto mode may explain itself (2.1.332): the
      // user says yes, or reads on.
      const answering = carol.next();
      const prompts = await answerToolPrompts(dana.pane as TmuxSession, answering);
      console.log(`[e2e install] claude ${claudeVersion()}: around the tool call the user answered: ${prompts.join(", ") || "nothing"}`);
      const answer = await answering;
      expect(answer).toMatchObject({ fromName: MEMBER, text: ANSWER, kind: "direct", authenticated: true });
      await waitUntil(
        "Carol's message surfaced",
        async () => ((await carol.messenger.status(hello.messageId)).recipients[0]?.status === "surfaced" ? true : undefined),
        10_000,
      );
      await dana.pane?.waitFor(`${MEMBER}: answered Carol.`, 10_000);
      // Stop → idle, through the pid-named socket.
      await waitForPeer(carol, MEMBER, "idle");

      // A typed prompt: UserPromptSubmit → working, while the model thinks.
      dana.pane?.type(ASK);
      dana.pane?.press("Enter");
      const asked = await fake.waitFor(`${MEMBER}'s prompt`, (r) => r.session === MEMBER && (lastPrompt(r.body) ?? "").includes(ASK));
      await waitForPeer(carol, MEMBER, "working");
      // Mid-turn: the broker holds Carol's `next` message.
      const late = await carol.messenger.send(MEMBER, LATE, "next");
      expect((await carol.messenger.status(late.messageId)).recipients.map((r) => r.status)).toEqual(["queued"]);
      plainThinking.ask.resolve();
      await dana.pane?.waitFor(SUMMARY, 10_000);

      // Stop → idle lets the broker deliver; the push starts a turn of its own, and (the hooks having shown
      // up) marks the session working while that turn's model thinks.
      const lateTurn = await fake.waitFor(
        `${MEMBER}'s turn with Carol's late message`,
        (r) => r.session === MEMBER && newChannelBlocks(r.body).some((c) => c.text.includes(LATE)),
      );
      await waitForPeer(carol, MEMBER, "working");
      plainThinking.late.resolve();
      await dana.pane?.waitFor(NOTED, 10_000);
      await waitForPeer(carol, MEMBER, "idle");
      // Nothing of Carol's late message reached the model during the prompt's turn…
      for (const r of fake.main(MEMBER).filter((x) => x.seq < lateTurn.seq)) expect(JSON.stringify(r.body)).not.toContain(LATE);
      expect(lateTurn.seq).toBeGreaterThan(asked.seq);
      expect(lastPrompt(lateTurn.body)).toBeNull();
      // …it was delivered, and asked for, only after that turn's answer had gone out.
      const askedAt = asked.respondedAt as number;
      expect(lateTurn.receivedAt).toBeGreaterThanOrEqual(askedAt);
      expect((await carol.messenger.status(late.messageId)).recipients[0]?.deliveredAt ?? 0).toBeGreaterThanOrEqual(askedAt);
      expect(unscripted).toEqual([]);

      await stop(dana);
      // The mcp process took its socket with it.
      expect(existsSync(socket)).toBe(false);
      markE2ERan("install.e2e: plain claude after dist/claudemesh install, tool search on");
    }),
    90_000,
  );

  /**
   * A launched session in the HOME where install ran. `unique` is how many of each pair of claudemesh hook
   * commands (user scope + launch's --settings) Claude Code runs.
   */
  async function launchedSession(name: string, unique: 1 | 2): Promise<void> {
    // A failed earlier test leaves its session running: it must not be mistaken for a second mcp.
    for (const r of runs) await stop(r);
    expect(await others()).toEqual([]);
    thinking.set(name, deferred());
    const run = await start(name, (debugFile) => [bin, "launch", "--name", name, "-y", "--", "--debug-file", debugFile], {
      CLAUDEMESH_CLAUDE_BIN: claudeBin() as string,
    });
    await waitForPeer(carol, name, "idle");

    // One claudemesh mcp for the session: the one launch configured, with the session dir.
    const mcps = descendants(run.pane?.pid() ?? 0).filter((p) => / mcp$/.test(p.args));
    expect(mcps.map((p) => p.args)).toEqual([`${bin} mcp`]);
    const log = readDebugLog(run.debugFile);
    expect(log.match(/MCP server "claudemesh": Starting connection/g)?.length).toBe(1);
    const ready = [...log.matchAll(/claudemesh mcp ready (\{.*\})/g)].map((m) => JSON.parse(m[1] as string));
    expect(ready).toEqual([{ mesh: "e2e", name, sessionDir: expect.stringContaining(join(cmHome, "sessions", "s-")) }]);
    expect(await others()).toEqual([name]);

    // A typed prompt: UserPromptSubmit → working, while the model thinks.
    run.pane?.type(KICKOFF);
    run.pane?.press("Enter");
    const first = await fake.waitFor(`${name}'s prompt`, (r) => r.session === name && (lastPrompt(r.body) ?? "").includes(KICKOFF));
    await waitForPeer(carol, name, "working");
    thinking.get(name)?.resolve();
    // The reply (PreToolUse → working) reaches Carol; Stop → idle.
    expect(await carol.next()).toMatchObject({ fromName: name, text: DONE(name), kind: "direct" });
    await run.pane?.waitFor(`${name}: told Carol.`, 10_000);
    await waitForPeer(carol, name, "idle");

    // Carol asks: the push starts a turn whose request, tool search on, lists send_message; the answer is
    // made with it.
    await carol.messenger.send(name, PING(name), "next");
    const asked = await fake.waitFor(
      `${name}'s turn with Carol's question`,
      (r) => r.session === name && newChannelBlocks(r.body).some((c) => c.text.includes(PING(name))),
    );
    expect(newChannelBlocks(asked.body).find((c) => c.text.includes(PING(name)))?.text).toBe(
      `${PING(name)}\n↩ reply with claudemesh's send_message(to: "Carol")`,
    );
    expectToolSearch(asked.body);
    expect(await carol.next()).toMatchObject({ fromName: name, text: PONG(name), kind: "direct" });
    await waitForPeer(carol, name, "idle");

    // The guide once, and only the session's identity in the instructions.
    expect(fake.main(name)[0]?.seq).toBe(first.seq);
    expect(timesIn(first.body, GUIDE)).toBe(1);
    // …put there by the launching claudemesh's own hook.
    expect(readDebugLog(run.debugFile).match(/Hook SessionStart \(.*\) provided additionalContext/g)).toEqual([
      expect.stringContaining(`(${bin} hook context)`),
    ]);
    const names = fake
      .main(name)
      .map((r) => nameInInstructions(r.body))
      .filter((n) => n !== null);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names)).toEqual(new Set([name]));

    // Each of our hook events had two commands configured; Claude Code ran `unique` of them.
    const matches = hookMatches(run.debugFile).filter((m) => STATUS_HOOKS.includes(m.event));
    expect([...new Set(matches.map((m) => m.event))].sort()).toEqual([...STATUS_HOOKS].sort());
    for (const m of matches) expect(m).toEqual({ event: m.event, unique, beforeDedup: 2 });
    expect(unscripted).toEqual([]);
    await stop(run);
  }

  test(
    "install + launch: one mcp (the session's), Alice not the member, hooks deduplicated, guide once, status follows the turn",
    checked(async () => {
      // The user-scope hooks the launched session meets next to its own: the very same commands.
      expect(userHooks().SessionStart[0].hooks[0].command).toBe(`${bin} hook context`);
      await launchedSession("Alice", 1);
      markE2ERan("install.e2e: dist/claudemesh launch after install, tool search on");
    }),
    90_000,
  );

  test(
    "install from another claudemesh + launch: both hook sets run, the foreign one stands aside, guide once",
    checked(async () => {
      // The source checkout installs over the binary's entries (same hooks, other command).
      const main = realpathSync(join(ROOT, "src/cli/main.ts"));
      install([BUN, main]);
      expect(userHooks().SessionStart[0].hooks[0].command).toBe(`${BUN} ${main} hook context`);
      await launchedSession("Bea", 2);
      markE2ERan("install.e2e: dist/claudemesh launch after install from source, tool search on");
    }),
    90_000,
  );
});
