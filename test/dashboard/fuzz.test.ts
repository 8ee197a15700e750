import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import type { MeshConfig } from "../../src/client/config.ts";
import { addMember, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { anyUnits, poisoned } from "../protocol/arbitraries.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { sessionFiles } from "../helpers/files.ts";
import { messagingPeer, type TestPeer } from "../helpers/messaging.ts";
import { dashFetch, dashJson, login } from "./helpers.ts";

const PATHS = [
  "/dashboard",
  "/dashboard/",
  "/dashboard/signin",
  "/dashboard/tokens",
  "/dashboard/login/",
  "/dashboard/api/me",
  "/dashboard/api/peers",
  "/dashboard/api/state",
  "/dashboard/api/memory",
  "/dashboard/api/memory/",
  "/dashboard/api/files",
  "/dashboard/api/files/",
  "/dashboard/api/activity",
  "/dashboard/api/logout",
  "/dashboard/api/",
];

/** A hostile request to a dashboard route: any method, path suffix, query, body and cookie. */
const request = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
  path: fc.constantFrom(...PATHS),
  suffix: fc.oneof(
    fc.constant(""),
    fc.string({ maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom("/forget", "%00/forget", "..%2f..%2fadmin", "x/forget", "x/download", "%00/download", "?name=a.txt", "?name=%00&tags=a,b"),
  ),
  query: fc.oneof(
    fc.constant(""),
    fc.string({ maxLength: 60 }).map((s) => `?q=${encodeURIComponent(s)}`),
    fc.constantFrom("?tag=&tag=%00", "?q=%00", "?q=a%00b&tag=x", "?q=" + "a".repeat(5000), "?q=%FF%FE"),
  ),
  body: fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    poisoned.object.map((v) => JSON.stringify(v)),
    fc
      .record(
        { key: anyUnits, value: anyUnits, content: anyUnits, tags: fc.array(anyUnits, { maxLength: 3 }), to: anyUnits, text: anyUnits },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  ),
  cookie: fc.oneof(
    fc.constant("valid"),
    fc.constant("none"),
    fc.string({ maxLength: 60 }).map((s) => `claudemesh_dashboard=${encodeURIComponent(s)}`),
  ),
  origin: fc.oneof(fc.constant(undefined), fc.constantFrom("https://evil.example", "null")),
});

describe.each(backends())("fuzzing the dashboard's HTTP routes on %s", (backend) => {
  let b: TestBroker;
  let alice: MeshConfig;
  let outsider: TestPeer;
  let cookie: string;
  let outsiderFile: string;
  const dir = tempDir("cm-dash-fuzz-");

  suiteFixture(async (stack) => {
    stack.use(dir);
    b = stack.use(await startTestBroker(backend));
    const mesh = await createMesh(b, "dfuzz");
    const other = await createMesh(b, "dfuzz-other");
    alice = await addMember(b, mesh, "alice");
    outsider = await messagingPeer(await addMember(b, other, "outsider"));
    await outsider.client.request({ type: "remember", content: "outsider knowledge", tags: ["x"] }, "memory_stored");
    await outsider.client.request({ type: "set_state", key: "outsider-key", value: 1 }, "state_result");
    const f = join(dir.path, "outsider-file.txt");
    writeFileSync(f, "outsider bytes");
    outsiderFile = (await sessionFiles(b, outsider.client).upload(f)).id;
    cookie = await login(alice);
  });

  test("no request crashes the broker, answers 5xx, or reaches another mesh", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        if (r.origin) headers.origin = r.origin;
        const c = r.cookie === "valid" ? cookie : r.cookie === "none" ? null : r.cookie;
        const res = await dashFetch(b.url, c, r.path + r.suffix + r.query, { method: r.method, headers, body: r.method === "GET" ? undefined : r.body });
        expect(res.status).toBeLessThan(500);
        const text = await res.text();
        expect(text).not.toContain("outsider");
        if (res.status === 200 && r.path.startsWith("/dashboard/api/") && r.method === "GET") expect(() => JSON.parse(text)).not.toThrow();
        // A fuzzed logout may end the session: the rest of the run keeps a logged-in cookie to fuzz with.
        if ((await dashFetch(b.url, cookie, "/dashboard/api/me")).status === 401) cookie = await login(alice);
      }),
      { numRuns: 300 },
    );
    // Still serving, the cookie may have been logged out by a fuzzed logout: log in again and look.
    const fresh = await login(alice);
    expect((await dashJson(b.url, fresh, "/dashboard/api/state")).entries).toEqual([]);
    expect((await outsider.client.request({ type: "recall", query: "outsider knowledge" }, "memory_results")).memories).toHaveLength(1);
    expect((await outsider.client.request({ type: "get_state", key: "outsider-key" }, "state_result")).found).toBe(true);
    expect((await sessionFiles(b, outsider.client).list()).map((x) => x.id)).toEqual([outsiderFile]);
  }, 60_000);
});
