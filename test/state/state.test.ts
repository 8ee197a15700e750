import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { BrokerClient } from "../../src/client/broker-client.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import type { JsonValue } from "../../src/state/frames.ts";
import { MAX_JSON_DEPTH } from "../../src/state/check.ts";
import { backends } from "../helpers/backends.ts";
import { closeClients, connect, outcome, type TestBroker, type TestMesh, twoMeshes } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { recordFrames } from "../helpers/frames.ts";
import { inProcessSession } from "../helpers/in-process.ts";

const roundTrip = (c: BrokerClient) => c.request({ type: "list_state" }, "state_list");
/** JSON has no -0, no undefined: what any JSON round trip can preserve. */
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as JsonValue;

describe.each(backends())("shared state on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let other: TestMesh;
  let aliceM: MeshConfig;
  let bobM: MeshConfig;
  let carolM: MeshConfig;
  let daveM: MeshConfig;
  suiteFixture(async (stack) => {
    ({
      broker: b,
      mesh,
      other,
      members: { Alice: aliceM, Bob: bobM, Carol: carolM, Dave: daveM },
    } = await twoMeshes(backend, "state", ["Alice", "Bob", "Carol"], ["Dave"]));
    stack.use(b);
  });

  test("a write is pushed to every other peer of the mesh, not to the writer, not to another mesh", async () => {
    const alice = await connect(aliceM);
    const bob = await connect(bobM);
    const bob2 = await connect(bobM); // a second session of the same member is a peer too
    const carol = await connect(carolM);
    const dave = await connect(daveM);
    const logs = [alice, bob, bob2, carol, dave].map(recordFrames);
    const [aLog, ...rest] = logs;
    const daveLog = rest.pop();

    const before = Date.now();
    const res = await alice.request({ type: "set_state", key: "deploy_frozen", value: true }, "state_result");
    expect(res).toMatchObject({ key: "deploy_frozen", value: true, found: true, updatedBy: "Alice" });
    expect(res.updatedAt).toBeGreaterThanOrEqual(before);

    for (const log of rest) {
      const change = await log.waitFor("state_change", (f) => f.key === "deploy_frozen");
      expect(change).toEqual({ type: "state_change", key: "deploy_frozen", value: true, updatedBy: "Alice", updatedAt: res.updatedAt as number });
    }
    // Frames to one session are ordered: whatever the broker would have pushed has arrived before these answers.
    await roundTrip(alice);
    await roundTrip(dave);
    expect(aLog?.of("state_change")).toEqual([]);
    expect(daveLog?.of("state_change")).toEqual([]);
    for (const c of [bob, bob2, carol]) await roundTrip(c);
    for (const log of rest) expect(log.of("state_change").length).toBe(1);

    // the other mesh has its own namespace
    expect(await dave.request({ type: "get_state", key: "deploy_frozen" }, "state_result")).toMatchObject({
      found: false,
      value: null,
      updatedBy: null,
      updatedAt: null,
    });
    expect((await roundTrip(dave)).entries).toEqual([]);
    await dave.request({ type: "set_state", key: "deploy_frozen", value: "other mesh" }, "state_result");
    expect((await bob.request({ type: "get_state", key: "deploy_frozen" }, "state_result")).value).toBe(true);
    await roundTrip(bob);
    expect(logs[1]?.of("state_change").length).toBe(1);
  });

  test("any JSON value round-trips exactly: to the reader, in the push, in the listing", async () => {
    const alice = await connect(aliceM);
    const bob = await connect(bobM);
    const bobLog = recordFrames(bob);
    const values: JsonValue[] = [
      null,
      false,
      true,
      0,
      -1.5,
      1e21,
      5e-324,
      Number.MAX_SAFE_INTEGER,
      1.7976931348623157e308,
      0.1 + 0.2,
      "",
      "quotes \" ' ` and \\ backslash, ünïcödé, 🎉, tab\tnewline\n",
      '{"looks": "like json"}',
      [],
      {},
      [null, false, 0, "", [], {}],
      { nested: { deeper: { list: [1, [2, [3, { k: null }]]] } }, "": "empty key", "with space": 1 },
      JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}'),
      Array.from({ length: 1000 }, (_, i) => i),
    ];
    for (const [i, value] of values.entries()) {
      const key = `v${i}`;
      const set = await alice.request({ type: "set_state", key, value }, "state_result");
      expect(set.value).toEqual(value);
      expect((await bob.request({ type: "get_state", key }, "state_result")).value).toEqual(value);
      expect((await bobLog.waitFor("state_change", (f) => f.key === key)).value).toEqual(value);
    }
    const listed = new Map((await roundTrip(bob)).entries.map((e) => [e.key, e.value]));
    for (const [i, value] of values.entries()) expect(listed.get(`v${i}`)).toEqual(value);

    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        await alice.request({ type: "set_state", key: "prop", value: value as JsonValue }, "state_result");
        expect((await bob.request({ type: "get_state", key: "prop" }, "state_result")).value).toEqual(asJson(value));
      }),
      { numRuns: 150 },
    );
  });

  test("one row per key: a write replaces value, author and time; the listing is sorted by key with authors", async () => {
    const alice = await connect(aliceM);
    const bob = await connect(bobM);
    const first = await alice.request({ type: "set_state", key: "sprint", value: "2026-W13" }, "state_result");
    const second = await bob.request({ type: "set_state", key: "sprint", value: "2026-W14" }, "state_result");
    expect(second.updatedAt as number).toBeGreaterThanOrEqual(first.updatedAt as number);
    expect(await alice.request({ type: "get_state", key: "sprint" }, "state_result")).toMatchObject({ value: "2026-W14", updatedBy: "Bob", found: true });
    await alice.request({ type: "set_state", key: "auth_api_status", value: "in-review" }, "state_result");
    const { entries } = await roundTrip(bob);
    expect(entries.filter((e) => e.key === "sprint")).toEqual([{ key: "sprint", value: "2026-W14", updatedBy: "Bob", updatedAt: second.updatedAt as number }]);
    const keys = entries.map((e) => e.key);
    expect(keys).toEqual([...keys].sort());
    expect(entries.find((e) => e.key === "auth_api_status")?.updatedBy).toBe("Alice");
  });

  test("concurrent writers converge: everyone ends on the value the store holds", async () => {
    const writers = await Promise.all([aliceM, bobM, carolM, aliceM, bobM].map((m) => connect(m)));
    const watcher = await connect(carolM);
    const all = [...writers, watcher];
    // each session's view: its own write results and the pushes it receives, in arrival order
    const seen = all.map(() => undefined as JsonValue | undefined);
    all.forEach((c, i) => c.on("frame", (f) => void (f.type === "state_change" && f.key === "race" && (seen[i] = f.value))));
    await Promise.all(
      writers.flatMap((c, w) =>
        Array.from({ length: 20 }, (_, n) =>
          c.request({ type: "set_state", key: "race", value: { w, n } }, "state_result").then((r) => {
            seen[w] = r.value;
          }),
        ),
      ),
    );
    const finals = await Promise.all(all.map((c) => c.request({ type: "get_state", key: "race" }, "state_result")));
    const final = finals[0]?.value;
    for (const f of finals) expect(f.value).toEqual(final as JsonValue);
    expect(seen).toEqual(all.map(() => final));
  });

  test("state outlives a broker restart", async () => {
    const alice = await connect(aliceM);
    await alice.request({ type: "set_state", key: "pr_queue", value: ["#142", "#143"] }, "state_result");
    closeClients(); // sessions of the old broker would keep reconnecting to its port
    b = await b.restart();
    const bob = await connect({ ...bobM, brokerUrl: b.url });
    expect(await bob.request({ type: "get_state", key: "pr_queue" }, "state_result")).toMatchObject({ value: ["#142", "#143"], updatedBy: "Alice" });
  });

  test("limits give clear errors and a refused write changes nothing and pushes nothing", async () => {
    const alice = await connect({ ...aliceM, brokerUrl: b.url });
    const bob = await connect({ ...bobM, brokerUrl: b.url });
    const bobLog = recordFrames(bob);
    await alice.request({ type: "set_state", key: "guarded", value: "original" }, "state_result");
    await bobLog.waitFor("state_change", (f) => f.key === "guarded");
    const set = (key: string, value: JsonValue) => outcome(alice.request({ type: "set_state", key, value }, "state_result"));
    const limit = b.broker.limits;

    expect(await set("k".repeat(limit.maxStateKeyChars), 1)).toBe("ok");
    expect(await set("🔑".repeat(limit.maxStateKeyChars), 1)).toBe("ok"); // characters, not UTF-16 units
    expect(await set("k".repeat(limit.maxStateKeyChars + 1), 1)).toBe("key_too_long");
    expect(await outcome(alice.request({ type: "get_state", key: "k".repeat(limit.maxStateKeyChars + 1) }))).toBe("key_too_long");
    expect(await set("", 1)).toBe("invalid_frame");
    expect(await set("big", "x".repeat(limit.maxStateValueBytes - 2))).toBe("ok"); // + 2 quotes = the limit
    expect(await set("guarded", "x".repeat(limit.maxStateValueBytes - 1))).toBe("value_too_large");
    expect(await set("guarded", "é".repeat(limit.maxStateValueBytes / 2))).toBe("value_too_large"); // bytes, not characters
    expect(await set("guarded", "a\u0000b")).toBe("invalid_argument");
    expect(await set("guarded", { "k\u0000": 1 })).toBe("invalid_argument");
    expect(await set("guarded", ["\ud800"])).toBe("invalid_argument");
    expect(await set("nul\u0000key", 1)).toBe("invalid_argument");
    expect(await outcome(alice.request({ type: "get_state", key: "nul\u0000key" }))).toBe("invalid_argument");
    let deep: JsonValue = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep];
    expect(await set("deep", deep)).toBe("ok");
    expect(await set("guarded", [deep])).toBe("invalid_argument");
    expect(await outcome(alice.request({ type: "set_state", key: "guarded" } as never))).toBe("invalid_frame"); // no value

    expect(await bob.request({ type: "get_state", key: "guarded" }, "state_result")).toMatchObject({ value: "original", updatedBy: "Alice" });
    await roundTrip(bob);
    expect(bobLog.of("state_change").filter((f) => f.key === "guarded").length).toBe(1);
  });

  test("hostile frames get structured errors, never an internal error", async () => {
    const s = await inProcessSession(b, aliceM);
    const frames = [
      `{"type":"set_state","id":"d1","key":"guarded","value":${"[".repeat(300_000)}${"]".repeat(300_000)}}`,
      `{"type":"set_state","id":"d2","key":"guarded","value":${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`,
      `{"type":"set_state","id":"d3","key":42,"value":1}`,
      `{"type":"set_state","id":"d4","key":["guarded"],"value":1}`,
      `{"type":"get_state","id":"d5"}`,
      `{"type":"set_state","id":"d6","key":"guarded","value":1`,
      `{"type":"list_state","id":"d7","extra":"ignored"}`,
    ];
    const codes = [];
    for (const raw of frames) codes.push((await s.send(raw)).map((f) => f.code ?? f.type).join());
    expect(codes).toEqual(["invalid_argument", "invalid_argument", "invalid_frame", "invalid_frame", "invalid_frame", "bad_json", "state_list"]);
    const [read] = await s.send(JSON.stringify({ type: "get_state", id: "r", key: "guarded" }));
    expect(read.value).toBe("original");
    await s.close();
  });

  test("fuzzed keys and values: a stored value or a structured error, and the data stays intact", async () => {
    const alice = await connect({ ...aliceM, brokerUrl: b.url });
    await alice.request({ type: "set_state", key: "sentinel", value: { keep: ["me"] } }, "state_result");
    const model = new Map((await roundTrip(alice)).entries.map((e) => [e.key, e.value]));
    const key = fc.oneof(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.constantFrom("'; DROP TABLE state; --", '" OR 1=1 --', "key) VALUES ('x'); --", "$1", "?", "%", "_", "\\", "sentinel'"),
      fc.string({ unit: "grapheme", minLength: 250, maxLength: 260 }),
    );
    const value = fc.oneof(fc.jsonValue({ maxDepth: 4, stringUnit: "binary" }), fc.constantFrom<JsonValue>("'); DELETE FROM state; --", { $where: "1" }));
    const allowed = new Set(["ok", "invalid_frame", "invalid_argument", "key_too_long", "value_too_large"]);
    await fc.assert(
      fc.asyncProperty(key, value, async (k, v) => {
        if (k === "sentinel") return;
        const got = await outcome(alice.request({ type: "set_state", key: k, value: v as JsonValue }, "state_result"));
        expect(allowed.has(got)).toBe(true);
        if (got === "ok") {
          model.set(k, asJson(v));
          expect((await alice.request({ type: "get_state", key: k }, "state_result")).value).toEqual(asJson(v));
        }
      }),
      { numRuns: 300 },
    );
    const after = (await roundTrip(alice)).entries;
    expect(new Map(after.map((e) => [e.key, e.value]))).toEqual(model);
    expect(after.find((e) => e.key === "sentinel")?.value).toEqual({ keep: ["me"] });
  });
});
