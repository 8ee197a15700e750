import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/backends.ts";
import { addMember, createMesh } from "../helpers/broker.ts";
import { baseEnv, configHome, type McpHandle, mcpSuite, sessionDir, startMcp } from "../mcp/helpers.ts";

/** The real tools through `claudemesh mcp` (the compiled binary), one process per session, as launch runs them. */
describe("file tools through claudemesh mcp", () => {
  const suite = mcpSuite();
  const work = tempDir("cm-mcp-files-");
  const mcp = {} as Record<"Alice" | "Bob" | "Carol", McpHandle>;

  beforeAll(async () => {
    const mesh = await createMesh(suite.broker, "filesmesh");
    for (const name of ["Alice", "Bob", "Carol"] as const) {
      const m = await addMember(suite.broker, mesh, `${name.toLowerCase()}-member`);
      const env = baseEnv({ CLAUDEMESH_HOME: configHome([m]), CLAUDEMESH_SESSION_DIR: sessionDir("filesmesh", name, null, "") });
      mcp[name] = await startMcp(suite.bin, env);
      expect((await mcp[name].call("list_peers")).isError).toBe(false);
    }
    // three MCP processes on a busy machine
  }, 30_000);

  afterAll(() => work.cleanup());

  test("Alice shares a file, Bob lists and downloads it, Alice's file_status names Bob", async () => {
    const src = join(work.path, "spec.md");
    writeFileSync(src, "# the spec\n");
    const shared = await mcp.Alice.call("share_file", { path: src, tags: ["docs"] });
    expect(shared.isError).toBe(false);
    const id = shared.data.id as string;
    const list = await mcp.Bob.call("list_files", { query: "docs" });
    expect(list.text).toContain(`${id} · spec.md`);
    const got = await mcp.Bob.call("get_file", { id, save_to: join(work.path, "bob") + "/" });
    expect(got.isError).toBe(false);
    expect(readFileSync(join(work.path, "bob", "spec.md"), "utf8")).toBe("# the spec\n");
    const status = await mcp.Alice.call("file_status", { id });
    expect(status.data.accesses).toMatchObject([{ peer: "Bob", read: true }]);
  });

  test("Alice attaches a file to a message for Bob: Bob's push shows it and he reads it; Carol cannot", async () => {
    const src = join(work.path, "screenshot.png");
    writeFileSync(src, new Uint8Array(100).fill(1));
    const sent = await mcp.Alice.call("send_message", { to: "Bob", message: "look at this", file: src });
    expect(sent.isError).toBe(false);
    const id = sent.data.files[0].id as string;
    const push = await mcp.Bob.nextChannel((n) => n.content.startsWith("look at this"));
    // the message text, its attachment line, then the channel's own reply hint
    expect(push.content.split("\n").slice(0, 2)).toEqual(["look at this", `📎 screenshot.png (100 B) — use get_file("${id}")`]);
    const got = await mcp.Bob.call("get_file", { id, save_to: join(work.path, "bob-shot.png") });
    expect(got.isError).toBe(false);
    const carol = await mcp.Carol.call("get_file", { id, save_to: join(work.path, "carol") + "/" });
    expect(carol.isError).toBe(true);
    expect(carol.text).toContain("[forbidden]");
    expect(existsSync(join(work.path, "carol"))).toBe(false);
  });
});
