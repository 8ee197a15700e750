/**
 * Files end to end with the real Claude Code CLI: Alice and Bob started by the compiled binary
 * (`dist/claudemesh launch --name … -y`) in tmux, a real broker (files on its local disk), one scripted
 * fake Messages API, and Carol, a plain client of a third member.
 *
 * Proves, through the real MCP tools the models call:
 *  (a) Alice's share_file stores notes.md; Bob, woken by her message, finds it with list_files and saves
 *      it with get_file, byte for byte;
 *  (b) Alice's file_status then names Bob as its reader;
 *  (c) a file Alice attaches to a message for Bob reaches Bob's model as a 📎 line with its id, Bob's
 *      get_file saves it, and Carol, in the same mesh but not a recipient, can neither list nor read it.
 *
 * Tool search is off here: which tools a woken session has loaded is claude-mesh.e2e's subject; this
 * suite is about what the file tools do once called.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { sessionFiles } from "../helpers/files.ts";
import { messagingPeer, type TestPeer, waitForPeer } from "../helpers/messaging.ts";
import { waitUntil } from "../helpers/wait.ts";
import { describeRealClaude, markE2ERan, reportClaudeRuns, stopClaudeRuns, waitForText } from "./claude-env.ts";
import { launch, type LaunchedSession, launchedSession } from "./launched.ts";
import {
  FakeAnthropic,
  identifyMeshSession,
  lastPrompt,
  lastToolResult,
  newChannelBlocks,
  type RecordedRequest,
  type Reply,
  sendMessage,
  text,
  toolUse,
} from "./fake-anthropic.ts";

const KICKOFF = "Please share notes.md with the mesh and tell Bob.";
const NOTES = "# Auth v2\n\n- tokens rotate every 12 h\n- refresh is single use\n";
const SECRET = "Bob only: the staging password is in the vault under auth-v2.\n";
const GOT_IT = "Bob here: got notes.md, reading it now.";
const ATTACHED = "Alice again: the staging note for you only is attached.";
const tool = (name: string, input: Record<string, unknown>) => toolUse(`mcp__claudemesh__${name}`, input);

/**
 * The text of the tool result this request continues after. Claude Code hands the model a tool's
 * structured content (our `{ text, …data }`) when there is one, so the text is read out of that JSON.
 */
function resultOf(body: unknown): { text: string; isError: boolean } | null {
  const r = lastToolResult(body);
  if (!r) return null;
  try {
    const parsed = JSON.parse(r.text);
    if (typeof parsed?.text === "string") return { text: parsed.text, isError: r.isError };
  } catch {}
  return { text: r.text, isError: r.isError };
}

type Session = LaunchedSession;

describeRealClaude("e2e: files through two real Claude Code sessions", () => {
  let root: ReturnType<typeof tempDir>;
  let broker: TestBroker;
  let fake: FakeAnthropic;
  let carol: TestPeer;
  const sessions: Session[] = [];
  const unscripted: RecordedRequest[] = [];
  const ids: { notes?: string; secret?: string } = {};
  let passed = false;

  const idIn = (s: string) => s.match(/\bf_[A-Za-z0-9_-]+/)?.[0];

  /** The script: each main request's reply, decided from what the model was shown. */
  function script(req: RecordedRequest): Reply {
    const body = req.body;
    const has = (t: string) => newChannelBlocks(body).some((c) => c.text.includes(t));
    const result = resultOf(body)?.text ?? null;
    const alice = sessions[0] as Session;
    const bob = sessions[1] as Session;
    if (req.session === "Alice") {
      if (lastPrompt(body)?.includes(KICKOFF)) return tool("share_file", { path: join(alice.project, "notes.md"), tags: ["auth"] });
      if (result?.startsWith("Shared notes.md")) {
        ids.notes = idIn(result);
        return sendMessage("Bob", `I shared notes.md as ${ids.notes}; please read it.`);
      }
      if (has(GOT_IT)) return tool("file_status", { id: ids.notes });
      if (result?.includes("downloaded by")) return tool("send_message", { to: "Bob", message: ATTACHED, file: join(alice.project, "secret.txt") });
      if (result?.includes("Attached: secret.txt")) {
        ids.secret = idIn(result.slice(result.indexOf("Attached:")));
        return text("Alice: attachment sent.");
      }
      if (result?.startsWith("Sent ")) return text("Alice: told Bob.");
    }
    if (req.session === "Bob") {
      if (has("I shared notes.md")) return tool("list_files", {});
      if (result?.startsWith("Saved notes.md")) return sendMessage("Alice", GOT_IT);
      if (result && /^\d+ files?:/.test(result)) return tool("get_file", { id: idIn(result), save_to: `${join(bob.project, "inbox")}/` });
      if (has(ATTACHED)) {
        const att = newChannelBlocks(body).find((c) => c.text.includes(ATTACHED));
        return tool("get_file", { id: att?.text.match(/get_file\("(f_[^"]+)"\)/)?.[1], save_to: `${join(bob.project, "inbox")}/` });
      }
      if (result?.startsWith("Saved secret.txt")) return text("Bob: saved the attachment.");
      if (result?.startsWith("Sent ")) return text("Bob: thanked Alice.");
    }
    unscripted.push(req);
    return text("(unscripted)");
  }

  function member(name: string, m: MeshConfig): Session {
    const s = launchedSession(root.path, name, m);
    mkdirSync(join(s.project, "inbox"));
    sessions.push(s);
    return s;
  }

  // tmux names of their own, so this suite never meets claude-mesh.e2e's panes
  const start = (s: Session, bin: string) => launch(s, { bin, apiUrl: fake.url, tmuxName: `f${s.name.toLowerCase()}`, env: { ENABLE_TOOL_SEARCH: "false" } });

  beforeAll(async () => {
    root = tempDir("cm-e2e-files-");
    fake = new FakeAnthropic({ identify: identifyMeshSession, handler: script });
    broker = await startTestBroker("sqlite");
  });

  afterAll(async () => {
    reportClaudeRuns({
      failed: !passed,
      runs: sessions,
      fake,
      unscripted,
    });
    await stopClaudeRuns(sessions, { fake, broker, root });
  });

  test("Alice shares, Bob lists and gets, file_status names Bob; an attachment reaches Bob and not Carol", async () => {
    const bin = await ensureBinary();
    const mesh = await createMesh(broker, "files-e2e");
    const alice = member("Alice", await addMember(broker, mesh, "Alice"));
    const bob = member("Bob", await addMember(broker, mesh, "Bob"));
    carol = await messagingPeer(await addMember(broker, mesh, "Carol"));
    writeFileSync(join(alice.project, "notes.md"), NOTES);
    writeFileSync(join(alice.project, "secret.txt"), SECRET);

    await Promise.all([start(alice, bin), start(bob, bin)]);
    await waitForPeer(carol, "Alice", null);
    await waitForPeer(carol, "Bob", "idle");
    for (const s of sessions) await waitForText(s.debugFile, /MCP server "claudemesh": Channel notifications registered/);

    alice.pane?.type(KICKOFF);
    alice.pane?.press("Enter");

    // (a) share_file ran in Alice's mcp; Bob's list_files shows it; his get_file saved the same bytes.
    const shared = await fake.waitFor("Alice's share_file result", (r) => r.session === "Alice" && (resultOf(r.body)?.text ?? "").startsWith("Shared"));
    expect(resultOf(shared.body)?.text).toMatch(/^Shared notes\.md \(\d+ B\) with the mesh as f_\S+\.$/);
    const listed = await fake.waitFor("Bob's list_files result", (r) => r.session === "Bob" && (resultOf(r.body)?.text ?? "").includes("notes.md"));
    const listing = resultOf(listed.body)?.text ?? "";
    expect(listing).toContain(ids.notes as string);
    expect(listing).toContain("tags auth");
    expect(listing).toContain("from Alice");
    const saved = await fake.waitFor("Bob's get_file result", (r) => r.session === "Bob" && (resultOf(r.body)?.text ?? "").startsWith("Saved notes.md"));
    expect(resultOf(saved.body)?.isError).toBe(false);
    expect(readFileSync(join(bob.project, "inbox", "notes.md"), "utf8")).toBe(NOTES);

    // (b) Alice, told by Bob, asks who read it: Bob.
    const status = await fake.waitFor("Alice's file_status result", (r) => r.session === "Alice" && (resultOf(r.body)?.text ?? "").includes("downloaded by"));
    expect(resultOf(status.body)?.text).toMatch(new RegExp(`^notes\\.md \\(${ids.notes}\\), downloaded by:\\n- Bob at \\d{4}-`));

    // (c) The attachment: in Bob's push as a 📎 line, saved by his get_file…
    const pushed = await fake.waitFor(
      "Bob's turn with the attachment",
      (r) => r.session === "Bob" && newChannelBlocks(r.body).some((c) => c.text.includes(ATTACHED)),
    );
    const block = newChannelBlocks(pushed.body).find((c) => c.text.includes(ATTACHED));
    expect(block?.attrs).toMatchObject({ from_name: "Alice", kind: "direct" });
    expect(block?.text).toMatch(/📎 secret\.txt \(\d+ B\) — use get_file\("f_[^"]+"\)/);
    await fake.waitFor("Bob's attachment saved", (r) => r.session === "Bob" && (resultOf(r.body)?.text ?? "").startsWith("Saved secret.txt"));
    expect(readFileSync(join(bob.project, "inbox", "secret.txt"), "utf8")).toBe(SECRET);
    await waitUntil("Alice's send with the attachment answered", () => ids.secret, 30_000);
    expect(block?.text).toContain(ids.secret as string);

    // …and Carol, a member of the same mesh, neither sees nor reads it (the shared notes she may read).
    const carolFiles = sessionFiles(broker, carol.client);
    const visible = (await carolFiles.list()).map((f) => f.id);
    expect(visible).toContain(ids.notes as string);
    expect(visible).not.toContain(ids.secret);
    const denied = await carolFiles.download(ids.secret as string, join(root.path, "carol-secret.txt")).then(
      () => "read it",
      (e) => e.code,
    );
    expect(denied).toBe("forbidden");
    expect(existsSync(join(root.path, "carol-secret.txt"))).toBe(false);

    await bob.pane?.waitFor("Bob: saved the attachment.", 15_000);
    await alice.pane?.waitFor("Alice: attachment sent.", 15_000);
    expect(unscripted).toEqual([]);
    passed = true;
    markE2ERan("claude-files.e2e: share/list/get/file_status and an attachment via dist/claudemesh launch");
  }, 180_000);
});
