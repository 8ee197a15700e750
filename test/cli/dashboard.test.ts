import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { b64 } from "../../src/crypto/encoding.ts";
import nacl from "tweetnacl";
import { writeSecretFile } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, closeClients, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { delegatedHello } from "../helpers/delegation.ts";

describe("claudemesh dashboard: the browser's delegated session", () => {
  let b: TestBroker;
  let alice: MeshConfig;
  const home = tempDir("cm-dash-cli-");
  let bin: string;

  beforeAll(async () => {
    b = await startTestBroker("sqlite");
    const mesh = await createMesh(b, "dcli");
    alice = await addMember(b, mesh, "Alice");
    writeSecretFile(join(home.path, "config.json"), JSON.stringify({ version: 1, meshes: [alice] }));
    bin = await ensureBinary();
  }, 120_000);
  afterAll(async () => {
    closeClients();
    await b?.destroy();
    home.cleanup();
  });

  async function cli(...args: string[]) {
    const p = Bun.spawn([bin, "dashboard", ...args], { env: { ...process.env, CLAUDEMESH_HOME: home.path }, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err, code };
  }

  /** The delegated session a login URL's fragment carries, as the page reads it. */
  function fromFragment(url: string) {
    const f = new URLSearchParams(url.split("#")[1] ?? "");
    const secretKey = f.get("sk") ?? "";
    const publicKey = b64.encode(nacl.sign.keyPair.fromSecretKey(b64.decode(secretKey)).publicKey);
    return { f, d: { session: { publicKey, secretKey }, expiresAt: Number(f.get("dexp")), signature: f.get("dsig") ?? "" } };
  }

  test("--for sets the delegation's life; its session key, only in the fragment, can hello as the member", async () => {
    const before = Date.now();
    const { out, code, err } = await cli("--no-open", "--for", "2h");
    expect(`${code} ${err}`).toBe("0 ");
    const url = out.trim().split("\n").pop() ?? "";
    const [path] = url.split("#");
    const { f, d } = fromFragment(url);
    expect(f.get("root")).toBe(alice.rootKey ?? "");
    expect(f.get("pk")).toBe(alice.pubkey);
    expect(d.expiresAt).toBeGreaterThanOrEqual(before + 2 * 3600_000);
    expect(d.expiresAt).toBeLessThanOrEqual(Date.now() + 2 * 3600_000);
    // the delegation's end as `invite` prints times: ISO, not the machine's locale
    expect(out).toContain(`as you until ${new Date(d.expiresAt).toISOString()} (`);
    // Neither the session secret nor the root key is in the part of the URL a browser sends.
    expect(path).not.toContain(encodeURIComponent(d.session.secretKey));
    expect(path).not.toContain(d.session.secretKey);
    const { reply } = await delegatedHello(b, alice, d);
    expect(reply).toMatchObject({ type: "hello_ack", displayName: "Alice (human)" });
  });

  test("a --for beyond 7 days or not a duration is refused before anything is registered", async () => {
    for (const bad of ["8d", "soon", "0m"]) {
      const { code, err, out } = await cli("--no-open", "--for", bad);
      expect(code).not.toBe(0);
      expect(err).toContain("--for");
      expect(out).toBe("");
    }
  });

  test("--revoke ends the member's delegations: a URL's session key is refused afterwards", async () => {
    const { out } = await cli("--no-open");
    const { d } = fromFragment(out.trim().split("\n").pop() ?? "");
    const live = await delegatedHello(b, alice, d);
    expect(live.reply.type).toBe("hello_ack");
    const revoked = await cli("--revoke");
    expect(`${revoked.code} ${revoked.err}`).toBe("0 ");
    expect(revoked.out).toMatch(/Revoked \d+ dashboard delegations? of Alice on dcli; [12] live sessions? ended/);
    expect(await live.s.closed).toBe(4003);
    expect((await delegatedHello(b, alice, d)).reply).toMatchObject({ type: "error", code: "delegation_revoked" });
  });
});
