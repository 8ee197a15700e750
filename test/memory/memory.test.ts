import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { BrokerClient } from "../../src/client/broker-client.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import type { Memory } from "../../src/memory/frames.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { backends } from "../helpers/backends.ts";
import { closeClients, connect, outcome, type TestBroker, type TestMesh, twoMeshes } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { inProcessSession } from "../helpers/in-process.ts";

/**
 * A golden corpus whose expected rankings are unambiguous: the expected first result holds every query
 * word, the others fewer. Both backends must produce exactly these orders.
 */
const CORPUS = {
  rate: "Payments API rate-limits at 100 req/s since the March incident; batch your calls.",
  freeze: "The deploy pipeline is frozen during the quarterly audit.",
  migrate: "Postgres migrations must run before the broker starts; the broker refuses an old schema.",
  pnpm: "Use pnpm, not npm, in the web workspace.",
  flaky: "Flaky test: the websocket reconnect test fails under load; retry with a longer backoff.",
  cache: "Redis cache keys expire after 24 hours; warm the cache after a deploy.",
  keys: "The auth service signs tokens with ed25519 keys rotated monthly.",
  outage: "Outage review: payments were down because of a missing index on invoices.",
  paths: "Config lives in src/broker/config.ts; see docs.example.com/v1.2 for the api_key format.",
} as const;
type Doc = keyof typeof CORPUS;

const GOLDEN: [query: string, expected: Doc[]][] = [
  ["rate limit", ["rate"]],
  ["payments incident", ["rate", "outage"]],
  ["deploy frozen", ["freeze", "cache"]],
  ["broker schema migration", ["migrate", "paths"]],
  ["websocket reconnect backoff", ["flaky"]],
  ["ed25519 rotation", ["keys"]],
  ["pnpm", ["pnpm"]],
  ["invoices index", ["outage"]],
  // punctuation splits words the same way on both backends
  ["config", ["paths"]],
  ["broker config", ["paths", "migrate"]],
  ["example api format", ["paths", "rate"]],
];

describe.each(backends())("memory on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let other: TestMesh;
  let aliceM: MeshConfig;
  let bobM: MeshConfig;
  let eveM: MeshConfig;
  let alice: BrokerClient;
  let bob: BrokerClient;
  const ids = new Map<Doc, string>();
  const docOf = (id: string) => [...ids].find(([, v]) => v === id)?.[0] ?? id;
  const recall = async (c: BrokerClient, query: string, extra: { tags?: string[]; limit?: number } = {}) =>
    (await c.request({ type: "recall", query, ...extra }, "memory_results")).memories;
  const remember = async (c: BrokerClient, content: string, tags?: string[]) =>
    (await c.request({ type: "remember", content, ...(tags ? { tags } : {}) }, "memory_stored")).memoryId;

  suiteFixture(async (stack) => {
    ({
      broker: b,
      mesh,
      other,
      members: { Alice: aliceM, Bob: bobM, Eve: eveM },
    } = await twoMeshes(backend, "memory", ["Alice", "Bob"], ["Eve"]));
    stack.use(b);
    alice = await connect(aliceM);
    bob = await connect(bobM);
    for (const [doc, content] of Object.entries(CORPUS) as [Doc, string][]) ids.set(doc, await remember(alice, content, ["golden"]));
  });

  test("remember returns an id; recall returns id, content, tags, author name, time and score", async () => {
    const before = Date.now();
    const id = await remember(bob, "Staging database password rotation happens every Friday.", ["Ops", " security ", "ops"]);
    expect(id).toMatch(/^mem_[a-z0-9]{16}$/);
    const [hit] = await recall(alice, "staging password rotation");
    expect(hit).toEqual({
      id,
      content: "Staging database password rotation happens every Friday.",
      tags: ["ops", "security"],
      rememberedBy: "Bob",
      rememberedAt: expect.any(Number),
      score: expect.any(Number),
    });
    expect(hit?.rememberedAt).toBeGreaterThanOrEqual(before);
    expect(hit?.score).toBeGreaterThan(0);
  });

  test("the golden corpus ranks as expected (the same on every backend)", async () => {
    for (const [query, expected] of GOLDEN) {
      const got = (await recall(bob, query, { tags: ["golden"] })).map((m) => docOf(m.id));
      expect({ query, got }).toEqual({ query, got: expected });
    }
    const scores = (await recall(bob, "payments incident")).map((m) => m.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
  });

  test("stemming: rate-limits finds rate limit, and the other way round", async () => {
    const plain = await remember(alice, "We hit the search rate limit twice yesterday.");
    expect((await recall(bob, "rate-limits")).map((m) => m.id)).toContain(plain);
    expect((await recall(bob, "Rate-Limits")).map((m) => m.id)).toContain(plain);
    expect((await recall(bob, "rate limit")).map((m) => m.id)).toContain(ids.get("rate") as string);
    expect((await recall(bob, "migration")).map((m) => docOf(m.id))).toEqual(["migrate"]);
    expect((await recall(bob, "failing tests")).map((m) => docOf(m.id))).toEqual(["flaky"]);
    expect((await recall(bob, "expires")).map((m) => docOf(m.id))).toEqual(["cache"]);
  });

  test("words: stop words and punctuation are not searched; a blank query lists the newest memories", async () => {
    expect(await recall(bob, "the and of a")).toEqual([]);
    expect(await recall(bob, "?!...---")).toEqual([]);
    expect(await recall(bob, "zzyzx-qqq")).toEqual([]);
    const newest = await remember(alice, "Newest memory for the listing test.", ["listing"]);
    const recent = await recall(bob, "   ", { limit: 3 });
    expect(recent.map((m) => m.id)[0]).toBe(newest);
    expect(recent.length).toBe(3);
    expect(recent.every((m) => m.score === 0)).toBe(true);
    const times = recent.map((m) => m.rememberedAt);
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  test("tag filter: memories carrying every given tag, case-insensitive, with or without a query", async () => {
    const a = await remember(alice, "Tagged note about the login flow.", ["auth", "frontend"]);
    const c = await remember(alice, "Another note about the login flow.", ["auth"]);
    const d = await remember(alice, "A login note with no tags.");
    const hit = async (query: string, tags?: string[]) =>
      (await recall(bob, query, tags ? { tags } : {})).map((m) => m.id).filter((id) => [a, c, d].includes(id));
    expect((await hit("login")).sort()).toEqual([a, c, d].sort());
    expect((await hit("login", ["auth"])).sort()).toEqual([a, c].sort());
    expect(await hit("login", ["AUTH", "Frontend"])).toEqual([a]);
    expect(await hit("login", ["auth", "backend"])).toEqual([]);
    expect((await hit("", ["auth"])).sort()).toEqual([a, c].sort());
  });

  test("limit: default 10, at most 50", async () => {
    for (let i = 0; i < 12; i++) await remember(alice, `Limit probe number ${i} about zeppelins.`, ["limit-probe"]);
    expect((await recall(bob, "zeppelins")).length).toBe(10);
    expect((await recall(bob, "zeppelins", { limit: 3 })).length).toBe(3);
    expect((await recall(bob, "zeppelins", { limit: 50 })).length).toBe(12);
    expect(await outcome(recall(bob, "zeppelins", { limit: 51 }))).toBe("invalid_frame");
    expect(await outcome(recall(bob, "zeppelins", { limit: 0 }))).toBe("invalid_frame");
  });

  test("forgotten memories never come back; forget is scoped to the mesh", async () => {
    const gone = await remember(alice, "Obsolete: the kraken service runs on port 8081.", ["kraken"]);
    const kept = await remember(alice, "The kraken service moved to port 9090.", ["kraken"]);
    const eve = await connect(eveM);
    expect(await outcome(eve.request({ type: "forget", memoryId: gone }, "ok"))).toBe("not_found");
    expect((await recall(bob, "kraken")).map((m) => m.id).sort()).toEqual([gone, kept].sort());

    expect((await bob.request({ type: "forget", memoryId: gone }, "ok")).type).toBe("ok");
    const visible = async () =>
      [
        ...(await recall(bob, "kraken port 8081 obsolete")),
        ...(await recall(bob, "", { tags: ["kraken"], limit: 50 })),
        ...(await recall(bob, "", { limit: 50 })),
      ].map((m) => m.id);
    expect(await visible()).not.toContain(gone);
    expect(await visible()).toContain(kept);
    expect(await outcome(bob.request({ type: "forget", memoryId: gone }, "ok"))).toBe("not_found");
    expect(await outcome(bob.request({ type: "forget", memoryId: "mem_doesnotexist000" }, "ok"))).toBe("not_found");
    expect(await outcome(bob.request({ type: "forget", memoryId: "nul\u0000id" }, "ok"))).toBe("not_found");
    // remembering the same words again makes a new memory; the forgotten one stays gone
    const again = await remember(alice, "Obsolete: the kraken service runs on port 8081.");
    expect((await recall(bob, "8081")).map((m) => m.id)).toEqual([again]);
    await bob.request({ type: "forget", memoryId: again }, "ok");
    expect(await recall(bob, "8081")).toEqual([]);
  });

  test("meshes never see each other's memories", async () => {
    const eve = await connect(eveM);
    const secret = await remember(eve, "Other mesh secret: the vault unseal ceremony is on Mondays.", ["golden"]);
    expect((await recall(bob, "vault unseal ceremony")).map((m) => m.id)).toEqual([]);
    expect((await recall(bob, "", { limit: 50 })).map((m) => m.id)).not.toContain(secret);
    expect((await recall(eve, "vault unseal ceremony")).map((m) => m.id)).toEqual([secret]);
    expect((await recall(eve, "payments deploy broker config", { limit: 50 })).map((m) => m.id)).toEqual([]);
    expect(await outcome(bob.request({ type: "forget", memoryId: secret }, "ok"))).toBe("not_found");
  });

  test("limits give clear errors and store nothing", async () => {
    const l = b.broker.limits;
    const count = async () => (await recall(bob, "", { limit: 50, tags: ["limits"] })).length;
    const r = (content: string, tags: string[] = ["limits"]) => outcome(remember(alice, content, tags));
    expect(await r("x".repeat(l.maxMemoryBytes))).toBe("ok");
    expect(await r("x".repeat(l.maxMemoryBytes + 1))).toBe("value_too_large");
    expect(await r("é".repeat(l.maxMemoryBytes / 2 + 1))).toBe("value_too_large"); // bytes, not characters
    expect(await r("   \n\t ")).toBe("invalid_argument");
    expect(await r("nul \u0000 inside")).toBe("invalid_argument");
    expect(await r("lone \ud800 surrogate")).toBe("invalid_argument");
    const tags = Array.from({ length: l.maxMemoryTags }, (_, i) => `t${i}`);
    expect(await r("sixteen tags", [...tags.slice(1), "limits"])).toBe("ok");
    expect(await r("seventeen tags", [...tags, "limits"])).toBe("invalid_argument");
    expect(await r("long tag", ["t".repeat(l.maxTagChars), "limits"])).toBe("ok");
    expect(await r("too long tag", ["t".repeat(l.maxTagChars + 1), "limits"])).toBe("invalid_argument");
    expect(await r("empty tag", ["  ", "limits"])).toBe("invalid_argument");
    expect(await outcome(recall(bob, "x", { tags: tags.concat("one-more") }))).toBe("invalid_argument");
    expect(await outcome(recall(bob, "x".repeat(5000)))).toBe("invalid_frame");
    expect(await count()).toBe(3);
    const s = await inProcessSession(b, aliceM);
    for (const raw of [
      '{"type":"remember","id":"a"}',
      '{"type":"remember","id":"b","content":7}',
      '{"type":"remember","id":"c","content":"x","tags":"limits"}',
      '{"type":"recall","id":"d"}',
      '{"type":"forget","id":"e","memoryId":""}',
    ]) {
      expect((await s.send(raw)).map((f) => f.code)).toEqual(["invalid_frame"]);
    }
    await s.close();
    expect(await count()).toBe(3);
  });

  test("fuzzed queries (quotes, FTS operators, SQL) give results or structured errors, never a crash", async () => {
    const fragment = fc.constantFrom(
      "AND",
      "OR",
      "NOT",
      "NEAR",
      "NEAR(a b, 2)",
      "*",
      '"',
      "'",
      "(",
      ")",
      "^",
      "-",
      "+",
      ":",
      "{",
      "}",
      "[",
      "]",
      "|",
      "&",
      "!",
      "<->",
      "<2>",
      ":*",
      "content:",
      "memory_fts:",
      "rank:",
      "\\",
      "%",
      "_",
      "$1",
      "?",
      ";",
      "--",
      "/*",
      "*/",
      "' OR 1=1 --",
      "'); DROP TABLE memory; --",
      '"; DELETE FROM memory_fts; --',
      "UNION SELECT * FROM member",
      "payments",
      "rate-limits",
      "deploy",
      "the",
      "é",
      "🎉",
      "\u0000",
      "\ud800",
    );
    const query = fc.oneof(
      fc.array(fragment, { maxLength: 8 }).map((a) => a.join(" ")),
      fc.array(fragment, { maxLength: 8 }).map((a) => a.join("")),
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.string({ unit: "grapheme", maxLength: 200 }),
    );
    const tags = fc.option(fc.array(fc.oneof(fragment, fc.string({ unit: "binary", maxLength: 70 })), { maxLength: 3 }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(query, tags, async (q, t) => {
        try {
          const res = await bob.request({ type: "recall", query: q, ...(t ? { tags: t } : {}) }, "memory_results");
          expect(Array.isArray(res.memories)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(WireError);
          expect(["invalid_argument", "invalid_frame"]).toContain((err as WireError).code);
        }
      }),
      { numRuns: 400 },
    );
    // the data is intact: the golden corpus still ranks as before
    for (const [query, expected] of GOLDEN) expect((await recall(bob, query, { tags: ["golden"] })).map((m) => docOf(m.id))).toEqual(expected);
  });

  test("fuzzed content: stored exactly and listed back, or a structured error", async () => {
    const content = fc.oneof(
      fc.string({ unit: "binary", minLength: 1, maxLength: 300 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 300 }),
      fc.constantFrom("'); DROP TABLE memory; --", '" OR ""="', 'NEAR("a" "b")', "x' || (SELECT pubkey FROM member) || '"),
    );
    await fc.assert(
      fc.asyncProperty(content, async (text) => {
        const got = await outcome(remember(alice, text, ["fuzz"]));
        expect(["ok", "invalid_argument"]).toContain(got);
        if (got !== "ok") return;
        const [newest] = await recall(bob, "", { tags: ["fuzz"], limit: 1 });
        expect(newest?.content).toBe(text);
        await recall(bob, text); // searching for it must not fail either
      }),
      { numRuns: 200 },
    );
  });

  test("memory survives a broker restart, forgotten memories stay forgotten", async () => {
    const kept = await remember(alice, "Durable: the release train leaves on Thursdays.", ["durable"]);
    const gone = await remember(alice, "Durable but wrong: the release train leaves on Tuesdays.", ["durable"]);
    await alice.request({ type: "forget", memoryId: gone }, "ok");
    const [before] = await recall(bob, "release train");
    closeClients();
    b = await b.restart();
    // a new session; the restarted broker listens on a new port
    const carol = await connect({ ...aliceM, brokerUrl: b.url });
    const after = await recall(carol, "release train");
    expect(after).toEqual([before as Memory]);
    expect(after[0]?.id).toBe(kept);
    expect((await recall(carol, "", { tags: ["durable"] })).map((m) => m.id)).toEqual([kept]);
    for (const [query, expected] of GOLDEN) expect((await recall(carol, query, { tags: ["golden"] })).map((m) => docOf(m.id))).toEqual(expected);
  });
});
