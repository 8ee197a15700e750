import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { requestSigningString, sign } from "../../src/crypto/keys.ts";
import { SIGNED_HEADERS } from "../../src/protocol/http-headers.ts";
import { newSecret, sha256Hex } from "../../src/util/ids.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { anyUnits, poisoned } from "../protocol/arbitraries.ts";
import type { MeshConfig } from "../../src/client/config.ts";

/**
 * Every HTTP route, as its template (a test below fails when the broker serves one that is missing);
 * `:x` segments are filled with fuzzed values.
 */
const ROUTES = [
  "/join",
  "/join/:token",
  "/join/:token/info",
  "/admin/meshes",
  "/admin/meshes/:slug",
  "/meshes/:meshId/invites",
  "/meshes/:meshId/invites/:inviteId/revoke",
  "/meshes/:meshId/members",
  "/meshes/:meshId/members/:member/revoke",
  "/meshes/:meshId/delegations",
  "/meshes/:meshId/delegations/revoke",
  "/meshes/:meshId/usage",
  "/meshes/:meshId/files/usage",
  "/admin/nodes",
  "/upload",
  "/files",
  "/files/token",
  "/files/:id",
  "/files/:id/status",
  "/files/:id/content",
  "/healthz",
  "/metrics",
  "/session",
  "/ws",
  // the dashboard's (test/dashboard/fuzz.test.ts fuzzes them with a logged-in cookie too)
  "/dashboard",
  "/dashboard/*",
  "/dashboard/signin",
  "/dashboard/tokens",
  "/dashboard/login/:token",
  "/dashboard/api/me",
  "/dashboard/api/peers",
  "/dashboard/api/state",
  "/dashboard/api/memory",
  "/dashboard/api/memory/:id/forget",
  "/dashboard/api/files",
  "/dashboard/api/files/:id",
  "/dashboard/api/files/:id/download",
  "/dashboard/api/activity",
  "/dashboard/api/events",
  "/dashboard/api/logout",
  "/dashboard/api/*",
];

const percent = fc.oneof(
  fc.constantFrom(
    "%",
    "%%",
    "%2",
    "%ZZ",
    "%00",
    "%FF",
    "%E0%A4%A",
    "%C0%AF",
    "%2F",
    "%2e%2e",
    "%25",
    "50%25%20off",
    "%2525",
    "%25E0%25A4",
    "%u0041",
    "%ED%A0%80",
    "%F4%90%80%80",
    "50% off",
  ),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, "0")}`).join("")),
);
const segment = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  // an encoded string that itself looks percent-encoded: a second decode would see `%` escapes
  fc.string({ maxLength: 10 }).map((s) => encodeURIComponent(`${s}%${s}`)),
  percent,
  fc.tuple(fc.string({ maxLength: 8 }).map(encodeURIComponent), percent, fc.string({ maxLength: 8 }).map(encodeURIComponent)).map((p) => p.join("")),
  fc.constantFrom("..", ".", "", "x".repeat(300), "mbr_" + "a".repeat(16)),
);
const b64Of = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString("base64"));
const key = b64Of(32);
const sig = b64Of(64);
const body = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.record({ token: fc.string(), pubkey: fc.string(), displayName: fc.string() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc
    .record({ token: anyUnits, pubkey: anyUnits, displayName: anyUnits, slug: anyUnits, ownerName: anyUnits, role: anyUnits }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      { role: fc.oneof(fc.string(), fc.constantFrom("member", "admin", "owner")), maxUses: fc.anything(), expiresInSeconds: fc.anything() },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record({ slug: fc.string(), ownerPubkey: fc.string(), ownerName: fc.string(), inviteMaxUses: fc.anything() }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      { sessionPubkey: fc.oneof(fc.string(), key), expiresAt: fc.oneof(fc.anything(), fc.integer()), signature: fc.oneof(fc.string(), sig) },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  poisoned.object.map((v) => JSON.stringify(v)),
  fc
    .record({ token: poisoned.value, role: poisoned.value, slug: poisoned.value, sessionPubkey: poisoned.value }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc.constantFrom("{", "null", "[]", '{"__proto__":{"admin":true}}', "\u0000", "\ud800"),
);
const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
const headerValue = fc.oneof(
  fc.stringMatching(/^[\x21-\x7e]{0,80}$/),
  fc.constantFrom("", "Bearer", "Bearer ", "Bearer x y", "NaN", "1e309", "-1", "9".repeat(40)),
);

type Auth = "none" | "admin" | "bearer-junk" | "signed" | "signed-junk";
const auth = fc.constantFrom<Auth>("none", "admin", "bearer-junk", "signed", "signed-junk");

describe.each(backends())("HTTP fuzz on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let member: MeshConfig;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "httpfuzz");
    member = await addMember(b, mesh, "Fuzzy");
  });

  test("the fuzzed routes are every route the broker serves", () => {
    expect(Object.keys(b.broker.routes()).filter((r) => !ROUTES.includes(r))).toEqual([]);
  });

  test("no input to any route answers 500 or crashes the broker", async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.array(segment, { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        method,
        body,
        auth,
        fc.dictionary(
          fc.constantFrom(SIGNED_HEADERS.member, SIGNED_HEADERS.timestamp, SIGNED_HEADERS.signature, SIGNED_HEADERS.nonce, "content-type", "content-length"),
          headerValue,
          { maxKeys: 3 },
        ),
        fc.option(fc.string({ maxLength: 20 }).map(encodeURIComponent), { nil: undefined }),
        async (template, segs, realMesh, m, text, how, junkHeaders, query) => {
          let i = 0;
          const path =
            template.replace(/:(\w+)/g, (_, name) => (name === "meshId" && realMesh ? mesh.meshId : (segs[i++] ?? "x"))) +
            (query === undefined ? "" : `?q=${query}`);
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(junkHeaders)) if (k !== "content-length") headers[k] = v;
          if (how === "admin") headers.authorization = `Bearer ${b.adminToken}`;
          if (how === "bearer-junk") headers.authorization = `Bearer ${newSecret()}`;
          if (how === "signed" || how === "signed-junk") {
            const timestamp = Date.now();
            const nonce = newSecret();
            const signedPath = new URL(b.url + path).pathname + new URL(b.url + path).search;
            const bodyText = m === "GET" ? "" : text;
            headers[SIGNED_HEADERS.member] = member.memberId;
            headers[SIGNED_HEADERS.timestamp] = String(timestamp);
            headers[SIGNED_HEADERS.nonce] = nonce;
            headers[SIGNED_HEADERS.signature] = sign(
              requestSigningString({ method: m, path: signedPath, timestamp, nonce, bodySha256: sha256Hex(bodyText) }),
              member.secretKey,
            );
            if (how === "signed-junk") Object.assign(headers, junkHeaders);
          }
          let res: Response;
          try {
            res = await fetch(b.url + path, { method: m, headers, body: m === "GET" ? undefined : text });
          } catch (err) {
            // fetch itself refuses some header values before sending: nothing reached the broker
            if (err instanceof TypeError) return;
            throw err;
          }
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          const answer = await res.text();
          if (res.status >= 500) throw new Error(`${m} ${path} (${how}) answered ${res.status}: ${answer.slice(0, 300)}`);
          // the dashboard's pages answer people, in HTML (its API answers in JSON like every other route)
          const page = res.headers.get("content-type")?.startsWith("text/html") ?? false;
          if (page) expect(path.startsWith("/dashboard") && !path.startsWith("/dashboard/api/")).toBe(true);
          if (res.status >= 400 && m !== "OPTIONS" && !page) {
            const parsed = JSON.parse(answer) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof parsed.error?.code).toBe("string");
            expect(typeof parsed.error?.message).toBe("string");
          }
        },
      ),
      { numRuns: 300 },
    );
    // The fuzz reached past authentication too, and the broker still serves.
    expect([...seen.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect([...seen.keys()].some((s) => s === 401)).toBe(true);
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
  }, 120_000);
});
