import { describe, expect, test } from "bun:test";
import { startBroker } from "../../src/server/app.ts";
import { requestSigningString, sign } from "../../src/crypto/keys.ts";
import { MeshRepo } from "../../src/meshes/repo.ts";
import { SIGNED_HEADERS } from "../../src/protocol/http-headers.ts";
import { newSecret, sha256Hex } from "../../src/util/ids.ts";
import { systemClock } from "../../src/util/clock.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { backends, PG_URL, tempDir } from "../helpers/backends.ts";
import { createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

/** A member-signed request as it crosses the wire, so the test can send the very same bytes twice. */
function captured(member: MeshConfig, method: string, path: string, body: string, nonce: string | null = newSecret()) {
  const timestamp = Date.now();
  const headers: Record<string, string> = {
    "content-type": "application/json",
    [SIGNED_HEADERS.member]: member.memberId,
    [SIGNED_HEADERS.timestamp]: String(timestamp),
    [SIGNED_HEADERS.signature]: sign(requestSigningString({ method, path, timestamp, nonce: nonce ?? "", bodySha256: sha256Hex(body) }), member.secretKey),
  };
  if (nonce !== null) headers[SIGNED_HEADERS.nonce] = nonce;
  return { headers, body, method, path };
}

const send = async (url: string, r: ReturnType<typeof captured>) => {
  const res = await fetch(url + r.path, { method: r.method, headers: r.headers, body: r.method === "GET" ? undefined : r.body });
  return { status: res.status, json: (await res.json()) as any };
};

describe.each(backends())("signed request replay on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "signed");
  });

  const invites = async () => Number((await b.store.sql`SELECT count(*) AS n FROM invite WHERE mesh_id = ${mesh.meshId}`)[0]?.n);

  test("a captured invite request resent within the skew window mints nothing: replayed_request", async () => {
    const before = await invites();
    const req = captured(mesh.owner, "POST", `/meshes/${mesh.meshId}/invites`, JSON.stringify({ maxUses: 1 }));
    expect((await send(b.url, req)).status).toBe(200);
    const again = await send(b.url, req);
    expect(again).toEqual({ status: 401, json: { error: { code: "replayed_request", message: expect.any(String) } } });
    expect(await invites()).toBe(before + 1);
    // The same member signing afresh is fine.
    expect((await send(b.url, captured(mesh.owner, "POST", `/meshes/${mesh.meshId}/invites`, "{}"))).status).toBe(200);
  });

  test("a GET replay is refused too, and a signed request without a nonce is unauthorized", async () => {
    const req = captured(mesh.owner, "GET", `/meshes/${mesh.meshId}/members`, "");
    expect((await send(b.url, req)).status).toBe(200);
    expect((await send(b.url, req)).json.error.code).toBe("replayed_request");
    const bare = await send(b.url, captured(mesh.owner, "GET", `/meshes/${mesh.meshId}/members`, "", null));
    expect(bare).toMatchObject({ status: 401, json: { error: { code: "unauthorized" } } });
  });

  test("a nonce moved onto another request does not verify; a forged request spends no nonce", async () => {
    const a = captured(mesh.owner, "POST", `/meshes/${mesh.meshId}/invites`, "{}");
    const forged = { ...a, headers: { ...a.headers, [SIGNED_HEADERS.nonce]: newSecret() } };
    expect((await send(b.url, forged)).json.error.code).toBe("bad_member_signature");
    expect((await send(b.url, a)).status).toBe(200);
  });

  test("the sweep prunes nonces whose skew window has passed", async () => {
    const repo = new MeshRepo(b.store, systemClock);
    await repo.useNonce(mesh.owner.memberId, "old-nonce-0123456789", Date.now() - 1);
    await repo.useNonce(mesh.owner.memberId, "live-nonce-0123456789", Date.now() + 60_000);
    await b.broker.housekeeping();
    const rows = await b.store.sql`SELECT nonce FROM request_nonce WHERE nonce IN ('old-nonce-0123456789', 'live-nonce-0123456789')`;
    expect(rows.map((r: { nonce: string }) => r.nonce)).toEqual(["live-nonce-0123456789"]);
  });

  if (backend === "postgres") {
    test("two brokers on one Postgres store agree: a request replayed to the other broker is refused", async () => {
      const dir = tempDir("cm-broker2-");
      const second = await startBroker({
        port: 0,
        dataDir: dir.path,
        databaseUrl: PG_URL,
        dbSchema: b.schema,
        limits: { pingIntervalMs: 60_000, sweepIntervalMs: 60_000 },
      });
      try {
        const req = captured(mesh.owner, "POST", `/meshes/${mesh.meshId}/invites`, "{}");
        const [r1, r2] = await Promise.all([send(b.url, req), send(second.url, req)]);
        expect([r1.status, r2.status].sort()).toEqual([200, 401]);
        expect([r1, r2].find((r) => r.status === 401)?.json.error.code).toBe("replayed_request");
      } finally {
        await second.stop();
        dir.cleanup();
      }
    });
  }
});
