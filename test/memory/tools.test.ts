import { describe, expect, test } from "bun:test";
import type { ToolContext } from "../../src/client/tool.ts";
import { memoryTools } from "../../src/memory/tools.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { backends } from "../helpers/backends.ts";
import { createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { toolbox, toolContext } from "../helpers/tools.ts";

const { tool, call } = toolbox(memoryTools);

describe.each(backends())("memory MCP tools on %s", (backend) => {
  let b: TestBroker;
  let ctx: ToolContext;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    ctx = await toolContext(b, await createMesh(b, "memory-tools"), "Alice");
  });

  test("three tools with descriptions that tell memory from state", () => {
    expect(memoryTools.map((t) => t.name)).toEqual(["remember", "recall", "forget"]);
    expect(tool("remember").description).toContain("set_state");
    for (const t of memoryTools) expect(t.description.length).toBeGreaterThan(40);
  });

  test("remember, recall and forget against a live broker", async () => {
    const stored = await call(ctx, "remember", { content: "Payments API rate-limits at 100 req/s since the March incident.", tags: ["payments", "Incident"] });
    const { memoryId } = stored.data as { memoryId: string };
    expect(stored.text).toBe(`Remembered as ${memoryId}.`);
    await call(ctx, "remember", { content: "Unrelated: lunch is at noon." });

    const found = await call(ctx, "recall", { query: "payments rate limit" });
    expect(found.text).toMatch(
      new RegExp(`^1 memory:\\n1\\. \\[${memoryId} · by Alice · \\d{4}-[^\\]]* · tags: payments, incident · score [\\d.]+\\]\\nPayments API rate-limits`),
    );
    expect((found.data as { memories: { id: string }[] }).memories.map((m) => m.id)).toEqual([memoryId]);
    expect((await call(ctx, "recall", { query: "", tags: ["incident"] })).text).toContain(memoryId);
    expect((await call(ctx, "recall", { query: "", limit: 1 })).text).toMatch(/^1 memory:\n1\. \[mem_\w+ · by Alice · [^\]]+\]\nUnrelated: lunch/);

    expect((await call(ctx, "forget", { id: memoryId })).text).toBe(`Forgot ${memoryId}.`);
    expect((await call(ctx, "recall", { query: "payments rate limit" })).text).toBe("No memories match.");
    const err = await call(ctx, "forget", { id: memoryId }).catch((e) => e);
    expect(err).toBeInstanceOf(WireError);
    expect(err.code).toBe("not_found");
  });
});
