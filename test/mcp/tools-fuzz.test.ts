import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { addMember, createMesh } from "../helpers/broker.ts";
import { tempDir } from "../helpers/backends.ts";
import { messagingPeer, type TestPeer } from "../helpers/messaging.ts";
import { waitUntil } from "../helpers/wait.ts";
import { anyUnits, poisoned } from "../protocol/arbitraries.ts";
import { baseEnv, configHome, type McpHandle, mcpSuite, sessionDir, startMcp } from "./helpers.ts";

/** What a model might pass for any argument: plausible values, wrong types, hostile JSON, odd text. */
const plausible = fc.oneof(
  fc.constantFrom("Bob", "@frontend", "*", "@all", "frontend", "idle", "working", "dnd", "msg_x", "f_x", "mem_x", "deploy_frozen", ""),
  fc.string({ maxLength: 30 }),
  anyUnits,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.constantFrom("Bob", "@frontend", "*"), fc.string({ maxLength: 10 }), anyUnits), { maxLength: 4 }),
  poisoned.value,
);

describe("claudemesh mcp: any tool arguments a model could send", () => {
  const suite = mcpSuite();
  let alice: McpHandle;
  let bob: TestPeer;
  let tools: { name: string; keys: string[] }[];
  let files: string;

  beforeAll(async () => {
    const mesh = await createMesh(suite.broker, "fuzz");
    const aliceM = await addMember(suite.broker, mesh, "alice-member");
    bob = await messagingPeer(await addMember(suite.broker, mesh, "Bob"));
    const dir = tempDir("cm-tool-fuzz-");
    files = dir.path;
    writeFileSync(join(files, "real.txt"), "a real file\n");
    // relative paths (any string may be one) land in the temp dir, never in the tree the tests run from
    alice = await startMcp(
      suite.bin,
      baseEnv({ CLAUDEMESH_HOME: configHome([aliceM]), CLAUDEMESH_SESSION_DIR: sessionDir("fuzz", "Alice", "dev", "frontend") }),
      undefined,
      files,
    );
    expect((await alice.call("list_peers")).isError).toBe(false);
    const listed = await alice.client.listTools();
    tools = listed.tools.map((t) => ({ name: t.name, keys: Object.keys(t.inputSchema.properties ?? {}) }));
    return dir.cleanup;
  });

  /** Local paths stay in the temp dir: the file tools read and write what they are given. */
  const pathLike = () =>
    fc.oneof(
      fc.constant(join(files, "real.txt")),
      fc.constant(`${files}/`),
      fc.string({ maxLength: 20 }).map((s) => join(files, `x-${s.replaceAll(".", "_")}`)),
      anyUnits.map((s) => join(files, `y-${s.replaceAll(".", "_")}`)),
    );

  /** Whatever text a path argument got, it names something inside the temp dir (no "/etc", no ".."). */
  const PATH_KEYS = new Set(["path", "save_to", "file", "files"]);
  const confine = (v: unknown): unknown =>
    typeof v === "string" ? (v.startsWith(`${files}/`) ? v : join(files, `z-${v.replace(/[/.]/g, "_")}`)) : Array.isArray(v) ? v.map(confine) : v;
  const confinePaths = (args: Record<string, unknown>) => Object.fromEntries(Object.entries(args).map(([k, v]) => [k, PATH_KEYS.has(k) ? confine(v) : v]));

  test("every call is answered with a tool result; the session and its broker connection survive", async () => {
    // ids from earlier answers, so the tools that take one also reach their success paths
    const ids: string[] = ["msg_x", "f_x", "mem_x"];
    const known = fc.integer({ min: 0, max: 1_000_000 }).map((i) => ids[i % ids.length] as string);
    const target = fc.constantFrom("Bob", "@frontend", "*", "@all", "Alice");
    /** A value that fits each argument name, so most calls pass the schema and reach the broker. */
    const fitting: Record<string, fc.Arbitrary<unknown>> = {
      to: fc.oneof(target, fc.array(target, { minLength: 1, maxLength: 3 })),
      message: fc.oneof(
        fc.string({ minLength: 1, maxLength: 40 }),
        anyUnits.filter((t) => t.length > 0),
      ),
      priority: fc.constantFrom("now", "next", "low"),
      file: pathLike(),
      files: fc.array(pathLike(), { maxLength: 2 }),
      path: pathLike(),
      save_to: pathLike(),
      overwrite: fc.boolean(),
      id: known,
      name: fc.constantFrom("frontend", "reviewers", "notes.txt"),
      role: fc.constantFrom("lead", "dev"),
      group: fc.constantFrom("frontend", "reviewers"),
      summary: fc.string({ maxLength: 40 }),
      status: fc.constantFrom("idle", "working", "dnd"),
      key: fc.oneof(fc.constantFrom("k1", "deploy_frozen"), anyUnits),
      value: fc.jsonValue({ maxDepth: 3 }),
      content: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), anyUnits),
      tags: fc.array(fc.constantFrom("api", "auth"), { maxLength: 2 }),
      query: fc.oneof(fc.string({ maxLength: 20 }), anyUnits),
      limit: fc.integer({ min: 0, max: 60 }),
      from: fc.constantFrom("Bob", "Alice", "bob-member"),
    };
    const call = fc.constantFrom(...tools).chain((tool) =>
      fc.record({
        name: fc.constant(tool.name),
        args: fc
          .tuple(
            fc.record(
              Object.fromEntries(tool.keys.map((k) => [k, fc.oneof({ weight: 4, arbitrary: fitting[k] ?? plausible }, { weight: 1, arbitrary: plausible })])),
              {
                requiredKeys: [],
              },
            ),
            fc.dictionary(fc.oneof(fc.constantFrom("__proto__", "constructor", "toString"), fc.string({ maxLength: 6 })), plausible, { maxKeys: 1 }),
          )
          .map(([fit, extra]) => confinePaths({ ...extra, ...fit })),
      }),
    );
    await fc.assert(
      fc.asyncProperty(call, async ({ name, args }) => {
        // a rejection here is a JSON-RPC error: the SDK wraps a tool's failures, so none is expected
        const r = (await alice.client.callTool({ name, arguments: args })) as { content: { type: string; text: string }[]; isError?: boolean };
        expect(Array.isArray(r.content)).toBe(true);
        const text = r.content.map((c) => c.text).join("\n");
        expect(text.length).toBeGreaterThan(0);
        // The model reads this: a failure is explained, never in a runtime's words or as an internal error.
        // (One upstream exception: for an argument like {"length":{"toString":1}} zod's own check throws, and
        // the SDK answers with the runtime's "No default value"; still a tool error, and the session lives on.)
        expect(text).not.toMatch(/TypeError|ReferenceError|is not a function|undefined is not|Cannot read properties|illegal UTF-16|ERR_[A-Z_]+|\[internal\]/);
        for (const id of text.match(/\b(?:msg|f|mem)_[A-Za-z0-9_-]+/g) ?? []) if (!ids.includes(id)) ids.push(id);
      }),
      { numRuns: 3000 },
    );
    expect(alice.errors).toEqual([]);
    // still connected and answering: a message from Bob is pushed, and Alice's tools reach the broker
    await bob.messenger.send("Alice", "still there?", "now");
    await alice.nextChannel((n) => n.content.includes("still there?"));
    // a flood of calls may have met the broker's frame limit, which lifts on its own
    const peers = await waitUntil("Alice's tools to answer again", async () => {
      const r = await alice.call("list_peers");
      return r.text.endsWith("[rate_limited]") ? undefined : r.text;
    });
    expect(peers).toContain("Bob");
  });
});
