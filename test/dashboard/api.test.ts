import { describe, expect, test } from "bun:test";
import type { MeshConfig } from "../../src/client/config.ts";
import { DashboardAuth, LOGIN_TOKEN_TTL_MS, SESSION_TTL_MS } from "../../src/dashboard/auth.ts";
import { startBroker } from "../../src/server/app.ts";
import { SIGNED_HEADERS } from "../../src/protocol/http-headers.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { addMember, createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { messagingPeer } from "../helpers/messaging.ts";
import { dashFetch, dashJson, login, loginPath, redeem, sse } from "./helpers.ts";

/** Every dashboard API route; each must answer 401 without the session cookie. */
const API = [
  ["GET", "/dashboard/api/me"],
  ["GET", "/dashboard/api/peers"],
  ["GET", "/dashboard/api/state"],
  ["GET", "/dashboard/api/memory?q=x"],
  ["POST", "/dashboard/api/memory/mem_x/forget"],
  ["GET", "/dashboard/api/files"],
  ["POST", "/dashboard/api/files?name=x"],
  ["DELETE", "/dashboard/api/files/f_x"],
  ["GET", "/dashboard/api/files/f_x/download"],
  ["GET", "/dashboard/api/activity"],
  ["GET", "/dashboard/api/events"],
  ["GET", "/dashboard/api/no-such-route"],
  ["POST", "/dashboard/api/no-such-route"],
] as const;

describe("DashboardAuth", () => {
  test("a login token works once, and not after 5 minutes; a session ends after its TTL", () => {
    let now = 1_000_000;
    const auth = new DashboardAuth(() => now);
    const who = { meshId: "m", meshSlug: "s", memberId: "a", memberName: "alice", memberRole: "member" };
    const once = auth.issueLoginToken(who);
    const s = auth.redeem(once.token);
    expect(s?.identity).toEqual(who);
    expect(auth.redeem(once.token)).toBeNull();
    const late = auth.issueLoginToken(who);
    now += LOGIN_TOKEN_TTL_MS;
    expect(auth.redeem(late.token)).toBeNull();
    expect(auth.session(s?.cookie)).toEqual(who);
    now += SESSION_TTL_MS;
    expect(auth.session(s?.cookie)).toBeNull();
    expect(auth.redeem("not-a-token")).toBeNull();
    expect(auth.session("forged")).toBeNull();
  });
});

for (const backend of backends()) {
  describe(`dashboard API (${backend})`, () => {
    let b: TestBroker;
    let mesh: TestMesh;
    let other: TestMesh;
    let alice: MeshConfig;
    let bob: MeshConfig;
    let mallory: MeshConfig;

    suiteFixture(async (stack) => {
      b = stack.use(await startTestBroker(backend));
      mesh = await createMesh(b, "dash");
      other = await createMesh(b, "dash-other");
      alice = await addMember(b, mesh, "alice");
      bob = await addMember(b, mesh, "bob");
      mallory = await addMember(b, other, "mallory");
    });

    test("without the cookie every API answers 401 and every page redirects to the sign-in page", async () => {
      for (const [method, path] of API) {
        const res = await dashFetch(b.url, null, path, { method });
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
        expect((await res.json()).error.code).toBe("unauthorized");
        const forged = await dashFetch(b.url, "claudemesh_dashboard=forged", path, { method });
        expect(forged.status).toBe(401);
      }
      for (const path of ["/dashboard", "/dashboard/", "/dashboard/peers", "/dashboard/memory", "/dashboard/anything/else"]) {
        const res = await dashFetch(b.url, null, path);
        expect(`${path} ${res.status} ${res.headers.get("location")}`).toBe(`${path} 302 /dashboard/signin`);
      }
      const signin = await dashFetch(b.url, null, "/dashboard/signin");
      expect(signin.status).toBe(200);
      expect(await signin.text()).toContain("claudemesh dashboard");
    });

    test("a login token needs a member signature", async () => {
      const res = await fetch(`${b.url}/dashboard/tokens`, { method: "POST", body: "{}" });
      expect(res.status).toBe(401);
      const forged = await fetch(`${b.url}/dashboard/tokens`, {
        method: "POST",
        body: "{}",
        headers: { [SIGNED_HEADERS.member]: alice.memberId, [SIGNED_HEADERS.timestamp]: String(Date.now()), [SIGNED_HEADERS.signature]: "AAAA" },
      });
      expect(forged.status).toBe(401);
    });

    test("the login token is single use and sets an HttpOnly, SameSite=Strict cookie scoped to /dashboard", async () => {
      const path = await loginPath(alice);
      const first = await redeem(b.url, path);
      expect(first.res.status).toBe(303);
      expect(first.res.headers.get("location")).toBe("/dashboard");
      const set = first.res.headers.get("set-cookie") ?? "";
      expect(set).toContain("HttpOnly");
      expect(set).toContain("SameSite=Strict");
      expect(set).toContain("Path=/dashboard");
      expect(set).not.toContain("Secure");
      const again = await redeem(b.url, path);
      expect(again.res.status).toBe(401);
      expect(again.cookie).toBeNull();
      expect(await again.res.text()).toContain("claudemesh dashboard");
      const me = await dashJson(b.url, first.cookie!, "/dashboard/api/me");
      expect(me).toEqual({ meshId: mesh.meshId, meshSlug: "dash", memberId: alice.memberId, memberName: "alice", memberRole: "member" });
      const page = await dashFetch(b.url, first.cookie, "/dashboard/state");
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<title>claudemesh dashboard</title>");
    });

    test("the page's JS and CSS together are at most 300 KB, and need no other origin", async () => {
      const cookie = await login(alice);
      const html = await (await dashFetch(b.url, cookie, "/dashboard")).text();
      const assets = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!).filter((p) => /\.(js|css)$/.test(p));
      expect(assets.length).toBeGreaterThanOrEqual(2);
      expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
      let total = 0;
      for (const a of assets) {
        const res = await fetch(b.url + a);
        expect(res.status).toBe(200);
        total += (await res.arrayBuffer()).byteLength;
      }
      expect(total).toBeLessThanOrEqual(300 * 1024);
    });

    test("peers, state, memory and activity are live over SSE, and scoped to the cookie's mesh", async () => {
      const cookie = await login(alice);
      const otherCookie = await login(mallory);
      const events = await sse(b.url, cookie);
      const otherEvents = await sse(b.url, otherCookie);

      const peer = await messagingPeer(bob, { groups: [{ name: "backend", role: "lead" }] });
      const joined = await events.next((e) => e.type === "peer_joined");
      expect(joined.peer).toMatchObject({ name: "bob", memberName: "bob", memberRole: "member", groups: [{ name: "backend", role: "lead" }], status: "idle" });
      await peer.client.request({ type: "set_status", status: "working" }, "ok");
      expect(await events.next((e) => e.type === "peer_status")).toMatchObject({ name: "bob", status: "working" });
      await peer.client.request({ type: "set_summary", summary: "fixing the login bug" }, "ok");
      expect((await events.next((e) => e.type === "peer_updated")).peer.summary).toBe("fixing the login bug");
      await peer.client.request({ type: "join_group", name: "oncall" }, "ok");
      const regrouped = await events.next((e) => e.type === "peer_updated" && e.peer.groups.length === 2);
      expect(regrouped.peer.groups).toContainEqual({ name: "oncall", role: null });
      await peer.client.request({ type: "set_state", key: "deploy", value: { env: "prod", ok: true } }, "state_result");
      expect((await events.next((e) => e.type === "state_changed")).entry).toMatchObject({ key: "deploy", value: { env: "prod", ok: true }, updatedBy: "bob" });
      const { memoryId } = await peer.client.request({ type: "remember", content: "the staging database listens on port 5433", tags: ["db"] }, "memory_stored");
      expect((await events.next((e) => e.type === "memory_stored")).memory).toMatchObject({ id: memoryId, tags: ["db"], rememberedBy: "bob" });

      const me = await messagingPeer(alice);
      await peer.messenger.send("alice", "secret plan", "now");
      const sent = await events.next((e) => e.type === "message_sent");
      expect(sent).toMatchObject({ name: "bob", priority: "now", recipients: 1 });
      expect(JSON.stringify(events.events)).not.toContain("secret plan");

      // The REST views agree with the stream.
      const peers = await dashJson(b.url, cookie, "/dashboard/api/peers");
      expect(peers.peers.map((p: any) => p.name).sort()).toEqual(["alice", "bob"]);
      expect((await dashJson(b.url, cookie, "/dashboard/api/state")).entries).toMatchObject([{ key: "deploy", updatedBy: "bob" }]);
      const found = await dashJson(b.url, cookie, "/dashboard/api/memory?q=staging%20database");
      expect(found.memories.map((m: any) => m.id)).toEqual([memoryId]);
      const activity = await dashJson(b.url, cookie, "/dashboard/api/activity");
      expect(activity.counts.find((c: any) => c.name === "bob")).toMatchObject({ now: 1, next: 0, low: 0 });

      // Mesh B's cookie sees none of it, and cannot forget mesh A's memory.
      expect((await dashJson(b.url, otherCookie, "/dashboard/api/peers")).peers).toEqual([]);
      expect((await dashJson(b.url, otherCookie, "/dashboard/api/state")).entries).toEqual([]);
      expect((await dashJson(b.url, otherCookie, "/dashboard/api/memory?q=staging")).memories).toEqual([]);
      expect((await dashJson(b.url, otherCookie, "/dashboard/api/memory")).memories).toEqual([]);
      expect((await dashJson(b.url, otherCookie, "/dashboard/api/activity")).events).toEqual([]);
      const steal = await dashFetch(b.url, otherCookie, `/dashboard/api/memory/${memoryId}/forget`, { method: "POST" });
      expect(steal.status).toBe(404);
      // Mesh B's stream got nothing of mesh A: prove it with an event of its own arriving first.
      const mp = await messagingPeer(mallory);
      await mp.client.request({ type: "set_state", key: "b-only", value: 1 }, "state_result");
      await otherEvents.next((e) => e.type === "state_changed");
      expect(otherEvents.events.map((e) => e.type)).toEqual(["peer_joined", "state_changed"]);
      expect(JSON.stringify(otherEvents.events)).not.toContain("bob");

      // Forget from the dashboard: a cross-origin write is refused, a same-origin one works and is announced.
      const cross = await dashFetch(b.url, cookie, `/dashboard/api/memory/${memoryId}/forget`, { method: "POST", headers: { origin: "https://evil.example" } });
      expect(cross.status).toBe(403);
      const ok = await dashFetch(b.url, cookie, `/dashboard/api/memory/${memoryId}/forget`, { method: "POST", headers: { origin: b.url } });
      expect(ok.status).toBe(200);
      expect(await events.next((e) => e.type === "memory_forgotten")).toMatchObject({ memoryId, by: "alice (dashboard)" });
      expect((await peer.client.request({ type: "recall", query: "staging database" }, "memory_results")).memories).toEqual([]);
      expect((await dashFetch(b.url, cookie, `/dashboard/api/memory/${memoryId}/forget`, { method: "POST" })).status).toBe(404);

      peer.client.close();
      expect(await events.next((e) => e.type === "peer_left")).toMatchObject({ name: "bob" });
      me.client.close();
      events.close();
      otherEvents.close();
    });

    test("logout ends the session; a revoked member's cookie stops working", async () => {
      const cookie = await login(alice);
      const out = await dashFetch(b.url, cookie, "/dashboard/api/logout", { method: "POST" });
      expect(out.status).toBe(200);
      expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
      expect((await dashFetch(b.url, cookie, "/dashboard/api/me")).status).toBe(401);
      expect((await dashFetch(b.url, cookie, "/dashboard")).status).toBe(302);

      const carol = await addMember(b, mesh, "carol");
      const carolCookie = await login(carol);
      expect((await dashFetch(b.url, carolCookie, "/dashboard/api/me")).status).toBe(200);
      const revoke = await fetch(`${b.url}/meshes/${mesh.meshId}/members/${carol.memberId}/revoke`, {
        method: "POST",
        headers: { authorization: `Bearer ${b.adminToken}` },
      });
      expect(revoke.status).toBe(200);
      expect((await dashFetch(b.url, carolCookie, "/dashboard/api/me")).status).toBe(401);
    });
  });
}

test("the cookie is Secure when the broker's public URL is HTTPS (behind a TLS proxy)", async () => {
  const dir = tempDir("cm-dash-tls-");
  const b = await startBroker({ port: 0, dataDir: dir.path, publicUrl: "https://mesh.example" });
  try {
    const local = { url: `http://127.0.0.1:${b.port}`, adminToken: b.adminToken };
    const mesh = await createMesh(local, "tls");
    const m = { ...(await addMember(local, mesh, "t")), brokerUrl: local.url };
    const { res } = await redeem(local.url, await loginPath(m));
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toContain("Secure");
  } finally {
    await b.stop();
    dir.cleanup();
  }
});
