import { beforeAll, describe, expect, test } from "bun:test";
import type { MeshConfig } from "../../src/client/config.ts";
import { INSTRUCTIONS_MAX_BYTES } from "../../src/mcp/instructions.ts";
import { addMember, createMesh, type TestMesh } from "../helpers/broker.ts";
import { messagingPeer, type TestPeer } from "../helpers/messaging.ts";
import { baseEnv, configHome, type McpHandle, mcpSuite, runHook, sessionDir, startMcp } from "./helpers.ts";

const META_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ALL_TOOLS = [
  "send_message",
  "check_messages",
  "message_status",
  "list_peers",
  "set_summary",
  "set_status",
  "join_group",
  "leave_group",
  "set_state",
  "get_state",
  "list_state",
  "remember",
  "recall",
  "forget",
  "share_file",
  "get_file",
  "list_files",
  "file_status",
  "delete_file",
];

/** Claude Code drops a channel event whose meta has a non-string value or a non-identifier key. */
function expectClaudeCodeMeta(meta: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(meta)) {
    expect(k).toMatch(META_KEY);
    expect(typeof v).toBe("string");
  }
}

describe("claudemesh mcp (compiled binary) in a launched session", () => {
  const suite = mcpSuite();
  let mesh: TestMesh;
  let aliceM: MeshConfig;
  let bob: TestPeer;
  let alice: McpHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    mesh = await createMesh(suite.broker, "team");
    aliceM = await addMember(suite.broker, mesh, "alice-member");
    bob = await messagingPeer(await addMember(suite.broker, mesh, "Bob"));
    const home = configHome([aliceM]);
    const dir = sessionDir("team", "Alice", "dev", "frontend:lead,reviewers");
    env = baseEnv({ CLAUDEMESH_HOME: home, CLAUDEMESH_SESSION_DIR: dir });
    alice = await startMcp(suite.bin, env);
    // Any tool call waits for the broker connection; after this Alice is online.
    expect((await alice.call("list_peers")).isError).toBe(false);
  });

  const aliceOnBroker = async () => (await bob.client.request({ type: "list_peers" }, "peers_list")).peers.find((p) => p.name === "Alice");

  test("declares the claude/channel capability and ≤ 4 KB instructions naming this session", () => {
    expect(alice.client.getServerCapabilities()?.experimental?.["claude/channel"]).toEqual({});
    const instructions = alice.client.getInstructions() ?? "";
    expect(new TextEncoder().encode(instructions).length).toBeLessThanOrEqual(INSTRUCTIONS_MAX_BYTES);
    expect(instructions).toContain('"Alice"');
    expect(instructions).toContain('"team"');
    expect(instructions).toContain("@frontend (lead)");
    expect(instructions).toContain("@reviewers");
    expect(instructions).toContain("role: dev");
  });

  test("lists every tool with an object input schema", async () => {
    const { tools } = await alice.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...ALL_TOOLS].sort());
    for (const t of tools) {
      expect(t.description?.length ?? 0).toBeGreaterThan(20);
      expect(t.inputSchema.type).toBe("object");
    }
    const byName = new Map(tools.map((t) => [t.name, t.inputSchema]));
    expect(byName.get("send_message")?.required?.sort()).toEqual(["message", "to"]);
    expect(Object.keys(byName.get("send_message")?.properties ?? {}).sort()).toEqual(["file", "files", "message", "priority", "to"]);
    expect(byName.get("join_group")?.required).toEqual(["name"]);
    expect(Object.keys(byName.get("list_peers")?.properties ?? {})).toEqual(["group"]);
    expect(byName.get("message_status")?.required).toEqual(["id"]);
    expect(byName.get("set_state")?.required?.sort()).toEqual(["key", "value"]);
    expect(byName.get("recall")?.required).toEqual(["query"]);
    // Claude Code's tool search never defers the tools a peer needs to answer a pushed message.
    const alwaysLoaded = tools.filter((t) => t._meta?.["anthropic/alwaysLoad"] === true).map((t) => t.name);
    expect(alwaysLoaded.sort()).toEqual(["check_messages", "list_peers", "send_message"]);
  });

  test("joins with the session dir's identity: name, role and groups are on the broker", async () => {
    const peer = await aliceOnBroker();
    expect(peer).toMatchObject({
      name: "Alice",
      role: "dev",
      groups: [
        { name: "frontend", role: "lead" },
        { name: "reviewers", role: null },
      ],
    });
    const listed = await alice.call("list_peers");
    expect(listed.text).toContain("Alice (member alice-member) (you)"); // the session name, then its enrolled member name
    expect(listed.text).toContain("Bob");
    expect(listed.data.text).toBe(listed.text);
    expect(listed.data.peers.map((p: { name: string }) => p.name).sort()).toEqual(["Alice", "Bob"]);
  });

  test("presence and group tools change what other peers see", async () => {
    expect((await alice.call("set_summary", { summary: "Fixing the auth refresh race" })).isError).toBe(false);
    expect((await alice.call("join_group", { name: "@backend", role: "observer" })).text).toContain("@backend as observer");
    expect((await alice.call("leave_group", { name: "reviewers" })).isError).toBe(false);
    expect(await aliceOnBroker()).toMatchObject({
      summary: "Fixing the auth refresh race",
      groups: [
        { name: "frontend", role: "lead" },
        { name: "backend", role: "observer" },
      ],
    });
    const inGroup = await alice.call("list_peers", { group: "backend" });
    expect(inGroup.data.peers.map((p: { name: string }) => p.name)).toEqual(["Alice"]);

    expect((await alice.call("set_status", { status: "dnd" })).isError).toBe(false);
    expect((await aliceOnBroker())?.status).toBe("dnd");
    // dnd is left only through set_status: a hook does not override it
    expect((await runHook(suite.bin, "working", env)).code).toBe(0);
    expect((await aliceOnBroker())?.status).toBe("dnd");
    await alice.call("set_status", { status: "idle" });
    expect((await aliceOnBroker())?.status).toBe("idle");
  });

  test("bad input is a readable tool error, not a protocol failure", async () => {
    const r = await alice.call("send_message", { to: "Nobody", message: "hi" });
    expect(r.isError).toBe(true);
    expect(r.text).toContain("Nobody");
    const bad = await alice.call("join_group", { name: "no spaces allowed" });
    expect(bad.isError).toBe(true);
  });

  test("a message from another peer is pushed at once as notifications/claude/channel with string-only meta", async () => {
    const sent = await bob.messenger.send("Alice", "can you review PR #42?", "next");
    const note = await alice.nextChannel((n) => n.meta.message_id === sent.messageId);
    expect(note.content).toContain("can you review PR #42?");
    expectClaudeCodeMeta(note.meta);
    expect(note.meta).toMatchObject({
      from_name: "Bob",
      from_session: bob.client.sessionPubkey,
      priority: "next",
      message_id: sent.messageId,
      mesh: "team",
      kind: "direct",
    });
    // Pushed means surfaced: check_messages does not return it again.
    const checked = await alice.call("check_messages");
    expect(checked.data.messages.map((m: { messageId: string }) => m.messageId)).not.toContain(sent.messageId);
    // Frames of one connection are ordered: that tool call went out after the surfaced receipt.
    const status = await bob.messenger.status(sent.messageId);
    expect(status.recipients).toMatchObject([{ name: "Alice", status: "surfaced" }]);
    // The push started a turn (no UserPromptSubmit hook for that), so the session is working now.
    expect((await alice.call("list_peers")).data.peers.find((p: { self: boolean }) => p.self).status).toBe("working");
    expect((await runHook(suite.bin, "idle", env)).code).toBe(0);
  });

  test("group messages carry kind=group and the target", async () => {
    const sent = await bob.messenger.send("@frontend", "frontend sync in 5", "now");
    const note = await alice.nextChannel((n) => n.meta.message_id === sent.messageId);
    expectClaudeCodeMeta(note.meta);
    expect(note.meta).toMatchObject({ kind: "group", to: "@frontend", priority: "now", from_name: "Bob" });
    expect(note.content).toContain("frontend sync in 5");
    await runHook(suite.bin, "idle", env);
  });

  test("low priority is never pushed: it waits for check_messages, which returns it exactly once", async () => {
    const low = await bob.messenger.send("Alice", "fyi: lunch is at noon", "low");
    const next = await bob.messenger.send("Alice", "ping after low", "next");
    // Pushes to one session are ordered: by the time `next` is here, a pushed `low` would be too.
    const note = await alice.nextChannel((n) => n.meta.message_id === next.messageId);
    expect(note.content).toContain("1 low-priority message waiting");
    expect(alice.channel.some((n) => n.meta.message_id === low.messageId)).toBe(false);
    const first = await alice.call("check_messages");
    expect(first.data.messages.map((m: { messageId: string }) => m.messageId)).toEqual([low.messageId]);
    expect(first.text).toContain("from Bob");
    expect(first.text).toContain("fyi: lunch is at noon");
    expect(first.data.messages[0]).toMatchObject({ messageId: low.messageId, priority: "low", fromName: "Bob", authenticated: true });
    expect((await alice.call("check_messages")).data.messages).toEqual([]);
    await runHook(suite.bin, "idle", env);
  });

  test("while working, next is held: check_messages drains it once and it is never pushed afterwards", async () => {
    expect(await runHook(suite.bin, "working", env)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await aliceOnBroker())?.status).toBe("working");
    const held = await bob.messenger.send("Alice", "held while busy", "next");
    const marker = await bob.messenger.send("Alice", "urgent marker", "now");
    await alice.nextChannel((n) => n.meta.message_id === marker.messageId);
    expect(alice.channel.some((n) => n.meta.message_id === held.messageId)).toBe(false);

    const drained = await alice.call("check_messages");
    expect(drained.data.messages.map((m: { messageId: string }) => m.messageId)).toEqual([held.messageId]);
    expect((await alice.call("check_messages")).data.messages).toEqual([]);

    // Going idle flushes held messages; the drained one is not among them any more.
    expect(await runHook(suite.bin, "idle", env)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await aliceOnBroker())?.status).toBe("idle");
    const after = await bob.messenger.send("Alice", "after idle", "next");
    await alice.nextChannel((n) => n.meta.message_id === after.messageId);
    expect(alice.channel.filter((n) => n.meta.message_id === held.messageId)).toEqual([]);
    await runHook(suite.bin, "idle", env);
  });

  test("send_message and message_status from the MCP side", async () => {
    const r = await alice.call("send_message", { to: "Bob", message: "review done, LGTM" });
    expect(r.isError).toBe(false);
    expect(r.data).toMatchObject({ to: "Bob", priority: "next", recipients: [{ name: "Bob" }] });
    const got = await bob.next();
    expect(got).toMatchObject({ text: "review done, LGTM", fromName: "Alice", kind: "direct", authenticated: true });
    bob.messenger.markSurfaced([got.messageId]);
    await bob.client.request({ type: "list_peers" }, "peers_list"); // the surfaced receipt is processed before this answer
    const status = await alice.call("message_status", { id: r.data.messageId });
    expect(status.isError).toBe(false);
    expect(status.data.recipients).toMatchObject([{ name: "Bob", status: "surfaced" }]);
    expect(status.text).toContain("Bob: surfaced");

    // A list given as "A, @group" text reaches each peer once.
    const multi = await alice.call("send_message", { to: "Bob, @all", message: "to everyone once", priority: "low" });
    expect(multi.data.recipients.map((x: { name: string }) => x.name)).toEqual(["Bob"]);
  });

  test("state tools work, and another peer's state change is pushed as kind=state_change", async () => {
    const set = await alice.call("set_state", { key: "deploy:frozen", value: true });
    expect(set.isError).toBe(false);
    expect((await alice.call("get_state", { key: "deploy:frozen" })).data).toMatchObject({ found: true, value: true, updatedBy: "Alice" });
    expect((await alice.call("list_state")).data.entries.map((e: { key: string }) => e.key)).toContain("deploy:frozen");

    await bob.client.request({ type: "set_state", key: "sprint:goal", value: { goal: "ship auth v2" } }, "state_result");
    const note = await alice.nextChannel((n) => n.meta.kind === "state_change");
    expectClaudeCodeMeta(note.meta);
    expect(note.meta).toMatchObject({ kind: "state_change", key: "sprint:goal", from_name: "Bob", mesh: "team" });
    expect(note.content).toContain("ship auth v2");
    await runHook(suite.bin, "idle", env);
  });

  test("memory tools: remember, recall, forget", async () => {
    const stored = await alice.call("remember", { content: "The payments API rate-limits at 100 requests per second", tags: ["payments"] });
    expect(stored.isError).toBe(false);
    const id = stored.data.memoryId as string;
    const found = await alice.call("recall", { query: "payments rate limit" });
    expect(found.data.memories.map((m: { id: string }) => m.id)).toContain(id);
    expect((await alice.call("forget", { id })).isError).toBe(false);
    expect((await alice.call("recall", { query: "payments rate limit" })).data.memories.map((m: { id: string }) => m.id)).not.toContain(id);
  });

  test("a backlog bigger than Claude Code shows whole comes in parts: each within its limit, every message once, oldest first, across a restart", async () => {
    // Claude Code never holds back a result of 2 × MAX_MCP_OUTPUT_TOKENS characters or fewer (registry.ts)
    const limit = 1500;
    const pagedEnv = { ...env, MAX_MCP_OUTPUT_TOKENS: String(limit), CLAUDEMESH_SESSION_DIR: sessionDir("team", "Paged", null, "") };
    let paged = await startMcp(suite.bin, pagedEnv);
    expect((await paged.call("list_peers")).isError).toBe(false);
    const sent: string[] = [];
    for (let i = 0; i < 24; i++) sent.push((await bob.messenger.send("Paged", `backlog ${i} ${"·".repeat(200)}`, "low")).messageId);
    const seen: string[] = [];
    const sizes: number[] = [];
    for (;;) {
      const r = await paged.call("check_messages");
      sizes.push(JSON.stringify(r.data).length);
      seen.push(...r.data.messages.map((m: { messageId: string }) => m.messageId));
      for (const m of r.data.messages) expect(r.text).toContain(m.messageId);
      if (r.data.more === 0) break;
      expect(r.text).toEndWith(`(${r.data.more} more messages waiting: call check_messages again to read them)`.replace(/\b1 more messages/, "1 more message"));
      // Claude Code restarts (its mcp process with it) after two parts: what was not shown yet is not lost
      if (sizes.length === 2) {
        await paged.client.close();
        paged = await startMcp(suite.bin, pagedEnv);
      }
    }
    expect(seen).toEqual(sent);
    expect(sizes.length).toBeGreaterThan(3);
    for (const n of sizes) expect(n).toBeLessThanOrEqual(2 * limit);
    expect((await paged.call("check_messages")).data.messages).toEqual([]);
  });

  test("a result too long for Claude Code with its fields keeps its text only", async () => {
    const tiny = await startMcp(suite.bin, { ...env, MAX_MCP_OUTPUT_TOKENS: "100", CLAUDEMESH_SESSION_DIR: sessionDir("team", "Tiny", null, "") });
    const r = await tiny.call("list_peers");
    expect(r.isError).toBe(false);
    expect(Object.keys(r.data)).toEqual(["text"]);
    expect(r.data.text).toContain("- Bob");
    // within the room, the fields stay (alice's mcp has the default room)
    expect(Object.keys((await alice.call("list_peers")).data)).toEqual(["text", "peers"]);
  });

  test("nothing but JSON-RPC ever reached the client on stdout", () => {
    expect(alice.errors).toEqual([]);
  });
});

describe("claudemesh mcp without a session dir", () => {
  const suite = mcpSuite();
  let mesh: TestMesh;

  beforeAll(async () => {
    mesh = await createMesh(suite.broker, "solo");
  });

  test("joins the only mesh with a fresh session identity and the member's display name", async () => {
    const carolM = await addMember(suite.broker, mesh, "Carol");
    const env = baseEnv({ CLAUDEMESH_HOME: configHome([carolM]) });
    const one = await startMcp(suite.bin, env);
    const two = await startMcp(suite.bin, env);
    expect(one.client.getInstructions()).toContain('"Carol"');
    const peers = (await one.call("list_peers")).data.peers;
    await two.call("list_peers");
    const all = (await one.call("list_peers")).data.peers as { name: string; sessionPubkey: string }[];
    expect(peers.find((p: { self: boolean }) => p.self)?.name).toBe("Carol");
    // Two plain `claude` sessions of one member are distinct peers with distinct session keys.
    expect(all.filter((p) => p.name === "Carol").length).toBe(2);
    expect(new Set(all.map((p) => p.sessionPubkey)).size).toBe(all.length);
  });

  test("CLAUDEMESH_MESH picks the mesh among several", async () => {
    const other = await createMesh(suite.broker, "other");
    const daveHere = await addMember(suite.broker, mesh, "Dave");
    const daveThere = await addMember(suite.broker, other, "Dave-other");
    const env = baseEnv({ CLAUDEMESH_HOME: configHome([daveThere, daveHere]), CLAUDEMESH_MESH: "solo" });
    const m = await startMcp(suite.bin, env);
    expect(m.client.getInstructions()).toContain('mesh "solo"');
    expect((await m.call("list_peers")).data.peers.find((p: { self: boolean }) => p.self)?.name).toBe("Dave");
  });

  test("with no mesh joined it still serves: the tools explain what to do", async () => {
    const m = await startMcp(suite.bin, baseEnv({ CLAUDEMESH_HOME: configHome([]) }));
    expect(m.client.getInstructions()).toContain("claudemesh join");
    expect((await m.client.listTools()).tools.length).toBe(ALL_TOOLS.length);
    const r = await m.call("list_peers");
    expect(r.isError).toBe(true);
    expect(r.text).toContain("claudemesh join");
    expect(m.errors).toEqual([]);
  });
});
