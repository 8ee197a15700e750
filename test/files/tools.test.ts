import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { FilesClient, sessionTokenProvider } from "../../src/files/client.ts";
import { fileTools, type FilesContext } from "../../src/files/tools.ts";
import type { McpTool } from "../../src/client/tool.ts";
import { type MessagingContext, messagingTools } from "../../src/messaging/tools.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { addMember, createMesh, outcome, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { startFilesBroker } from "../helpers/files.ts";
import { messagingPeer, type TestPeer } from "../helpers/messaging.ts";
import { toolbox } from "../helpers/tools.ts";

type Ctx = MessagingContext & FilesContext;
const { call } = toolbox([...fileTools, ...messagingTools] as McpTool[]);

/** What the MCP server hands a tool: the session's connection, its Messenger, and the file routes under its token. */
function context(b: TestBroker, m: MeshConfig, p: TestPeer): Ctx {
  return {
    client: p.client,
    messenger: p.messenger,
    inbox: { check: async () => ({ messages: [], left: 0 }) },
    resultChars: 40_000,
    files: new FilesClient(b.url, sessionTokenProvider(p.client, m)),
  };
}

describe.each(backends())("file MCP tools on %s", (backend) => {
  let b: TestBroker;
  let work: ReturnType<typeof tempDir>;
  let peers: Record<"Alice" | "Bob" | "Carol", TestPeer>;
  let ctx: Record<"Alice" | "Bob" | "Carol", Ctx>;
  suiteFixture(async (stack) => {
    b = stack.use(await startFilesBroker(backend, null));
    work = stack.use(tempDir("cm-file-tools-"));
    const mesh = await createMesh(b, "file-tools");
    peers = {} as typeof peers;
    ctx = {} as typeof ctx;
    for (const name of ["Alice", "Bob", "Carol"] as const) {
      const m = await addMember(b, mesh, name);
      peers[name] = await messagingPeer(m);
      ctx[name] = context(b, m, peers[name]);
    }
  });

  test("five file tools, each described", () => {
    expect(fileTools.map((t) => t.name)).toEqual(["share_file", "get_file", "list_files", "file_status", "delete_file"]);
    for (const t of fileTools) expect(t.description.length).toBeGreaterThan(30);
  });

  test("Alice shares a file, Bob lists and downloads it, Alice's file_status names Bob, delete makes it gone", async () => {
    const src = join(work.path, "api-contract.yaml");
    writeFileSync(src, "openapi: 3.1.0\n");
    const shared = await call(ctx.Alice, "share_file", { path: src, tags: ["api", "auth"], name: "Auth v2 Contract" });
    const id = (shared.data as { id: string }).id;
    expect(shared.text).toBe(`Shared Auth v2 Contract (15 B) with the mesh as ${id}.`);

    const list = await call(ctx.Bob, "list_files", { query: "auth", from: "Alice" });
    expect(list.text.split("\n")[0]).toBe("1 file:");
    expect(list.text).toContain(`- ${id} · Auth v2 Contract · 15 B · tags api, auth · from Alice · `);
    expect((await call(ctx.Bob, "list_files", { query: "nope" })).text).toBe("No files match.");

    const got = await call(ctx.Bob, "get_file", { id, save_to: join(work.path, "bob") + "/" });
    expect(got.text).toBe(`Saved Auth v2 Contract (15 B) to ${join(work.path, "bob", "Auth v2 Contract")}.`);
    expect(readFileSync(join(work.path, "bob", "Auth v2 Contract"), "utf8")).toBe("openapi: 3.1.0\n");
    const again = await outcome(call(ctx.Bob, "get_file", { id, save_to: join(work.path, "bob") + "/" }));
    expect(again).toBe("invalid_argument");

    const status = await call(ctx.Alice, "file_status", { id });
    expect(status.text).toMatch(new RegExp(`^Auth v2 Contract \\(${id}\\), downloaded by:\\n- Bob at \\d{4}-`));
    expect((status.data as { accesses: unknown[] }).accesses).toMatchObject([{ peer: "Bob", read: true }]);

    expect(await outcome(call(ctx.Carol, "delete_file", { id }))).toBe("forbidden");
    expect((await call(ctx.Alice, "delete_file", { id })).text).toBe(`Deleted ${id}; it is gone for everyone.`);
    const err = await call(ctx.Bob, "get_file", { id, save_to: join(work.path, "late") + "/" }).catch((e) => e);
    expect(err.code).toBe("file_deleted");
    expect(err.message).toContain("was deleted");
  });

  test("send_message with files: the push shows a 📎 line per file; recipients read them, Carol cannot", async () => {
    const shot = join(work.path, "screenshot.png");
    const log = join(work.path, "build.log");
    writeFileSync(shot, new Uint8Array(2048).fill(7));
    writeFileSync(log, "error: boom\n");
    const sent = await call(ctx.Alice, "send_message", { to: "Bob", message: "PR screenshot", file: shot, files: [log] });
    const files = (sent.data as { files: { id: string; name: string }[] }).files;
    expect(files.map((f) => f.name)).toEqual(["screenshot.png", "build.log"]);
    expect(sent.text).toContain(`Attached: screenshot.png (${files[0]?.id}), build.log (${files[1]?.id}).`);

    const m = await peers.Bob.next();
    expect(m.text).toBe(
      [`PR screenshot`, `📎 screenshot.png (2.0 KB) — use get_file("${files[0]?.id}")`, `📎 build.log (12 B) — use get_file("${files[1]?.id}")`].join("\n"),
    );
    const got = await call(ctx.Bob, "get_file", { id: files[1]?.id, save_to: join(work.path, "bob-log.txt") });
    expect(got.text).toContain("Saved build.log");
    expect(readFileSync(join(work.path, "bob-log.txt"), "utf8")).toBe("error: boom\n");

    const carol = await call(ctx.Carol, "get_file", { id: files[0]?.id, save_to: join(work.path, "carol") + "/" }).catch((e) => e);
    expect(carol.code).toBe("forbidden");
    expect(existsSync(join(work.path, "carol"))).toBe(false);
    expect((await call(ctx.Carol, "list_files", {})).text).not.toContain("screenshot.png");
    expect((await call(ctx.Bob, "list_files", {})).text).toContain("attachment, expires");
  });

  test("a session whose hello_ack token expired still reaches the file routes, through a member-signed upload token", async () => {
    const m = await addMember(b, await createMesh(b, "stale-token"), "Late");
    const stale = { ack: { token: "expired-token", tokenExpiresAt: Date.now() - 1 } };
    const c = new FilesClient(b.url, sessionTokenProvider(stale, m));
    const p = join(work.path, "late.txt");
    writeFileSync(p, "late");
    expect((await c.upload(p)).uploadedBy).toBe("Late");
    expect((await c.list()).map((f) => f.name)).toEqual(["late.txt"]);
  });

  test("a send that fails leaves no attachment behind", async () => {
    const f = join(work.path, "orphan.txt");
    writeFileSync(f, "x");
    expect(await outcome(call(ctx.Alice, "send_message", { to: "Nobody", message: "hi", file: f }))).toBe("unknown_target");
    expect(await outcome(call(ctx.Alice, "send_message", { to: "Bob", message: "hi", files: [f, join(work.path, "missing.txt")] }))).toBe("invalid_argument");
    expect((await call(ctx.Alice, "list_files", { query: "orphan" })).text).toBe("No files match.");
  });
});
