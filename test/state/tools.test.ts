import { describe, expect, test } from "bun:test";
import type { ToolContext } from "../../src/client/tool.ts";
import { stateTools } from "../../src/state/tools.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, connect, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { recordFrames } from "../helpers/frames.ts";
import { toolbox, toolContext } from "../helpers/tools.ts";

const { tool, call } = toolbox(stateTools);

describe.each(backends())("state MCP tools on %s", (backend) => {
  let b: TestBroker;
  let ctx: ToolContext;
  let bobLog: ReturnType<typeof recordFrames>;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    const mesh = await createMesh(b, "state-tools");
    ctx = await toolContext(b, mesh, "Alice");
    bobLog = recordFrames(await connect(await addMember(b, mesh, "Bob")));
  });

  test("three tools with descriptions that tell state from memory", () => {
    expect(stateTools.map((t) => t.name)).toEqual(["set_state", "get_state", "list_state"]);
    expect(tool("set_state").description).toContain("remember");
    for (const t of stateTools) expect(t.description.length).toBeGreaterThan(40);
  });

  test("set_state, get_state and list_state against a live broker", async () => {
    const set = await call(ctx, "set_state", { key: "deploy_frozen", value: true });
    expect(set.text).toBe("Set deploy_frozen = true; every other peer was notified.");
    expect(set.data).toMatchObject({ key: "deploy_frozen", value: true, updatedBy: "Alice" });
    expect((await bobLog.waitFor("state_change", (f) => f.key === "deploy_frozen")).value).toBe(true);

    await call(ctx, "set_state", { key: "pr_queue", value: ["#142", "#143"] });
    const got = await call(ctx, "get_state", { key: "pr_queue" });
    expect(got.text).toMatch(/^pr_queue = \["#142","#143"\] \(set by Alice, \d{4}-\d\d-\d\dT/);
    expect(got.data).toMatchObject({ found: true, value: ["#142", "#143"] });

    const missing = await call(ctx, "get_state", { key: "nope" });
    expect(missing.text).toBe('No state is set for "nope".');
    expect(missing.data).toEqual({ key: "nope", found: false, value: null });

    const list = await call(ctx, "list_state", {});
    expect(list.text.split("\n")[0]).toBe("2 state keys:");
    expect(list.text).toContain("- deploy_frozen = true (set by Alice");
    expect((list.data as { entries: unknown[] }).entries.length).toBe(2);
  });

  test("a broker error reaches the caller as an WireError with its code", async () => {
    const err = await call(ctx, "set_state", { key: "k".repeat(300), value: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(WireError);
    expect(err.code).toBe("key_too_long");
    expect(err.message).toContain("256");
  });
});
