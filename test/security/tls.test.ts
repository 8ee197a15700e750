import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { brokerRequest } from "../../src/client/http.ts";
import { loadConfig } from "../../src/client/config.ts";
import { joinMesh } from "../../src/client/join.ts";
import { InviteResponse } from "../../src/meshes/api.ts";
import { HealthResponse } from "../../src/nodes/api.ts";
import { inviteUrl } from "../../src/protocol/invite-url.ts";
import { backends, tempDir, type Backend } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, closeClients, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { messagingPeer } from "../helpers/messaging.ts";
import { freePort } from "../helpers/process-broker.ts";

/** A self-signed certificate for localhost and 127.0.0.1, made fresh for this run; it is its own CA. */
async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const p = Bun.spawn(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  if ((await p.exited) !== 0) throw new Error(`openssl failed: ${await new Response(p.stderr).text()}`);
  return { cert, key };
}

const certs = tempDir("cm-tls-");
let pem: { cert: string; key: string };
beforeAll(async () => {
  pem = await selfSigned(certs.path);
});
afterAll(() => certs.cleanup());

/** Runs `fn` with CLAUDEMESH_CA set (or unset), restoring it after. */
async function withCaEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.CLAUDEMESH_CA;
  if (value === undefined) delete process.env.CLAUDEMESH_CA;
  else process.env.CLAUDEMESH_CA = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.CLAUDEMESH_CA;
    else process.env.CLAUDEMESH_CA = before;
  }
}

describe.each(backends())("TLS on %s", (backend: Backend) => {
  let b: TestBroker;
  const home = tempDir("cm-tls-home-");
  suiteFixture(async (stack) => {
    stack.defer(() => home.cleanup());
    b = stack.use(
      await startTestBroker(backend, { pingIntervalMs: 60_000, sweepIntervalMs: 60_000 }, undefined, { tls: { certFile: pem.cert, keyFile: pem.key } }),
    );
  });
  afterEach(() => closeClients());

  test("the broker serves https and wss, and its invite URLs say https://", () => {
    expect(b.url).toStartWith("https://127.0.0.1:");
    expect(b.wsUrl).toStartWith("wss://127.0.0.1:");
    expect(b.quickStart?.invite?.url).toStartWith("https://");
  });

  test("the client verifies the certificate: refused without the CA, accepted with --ca or CLAUDEMESH_CA", async () => {
    const unverified = await withCaEnv(undefined, () =>
      brokerRequest(b.url, "GET", "/healthz", HealthResponse).then(
        () => "ok",
        (e) => String(e.message),
      ),
    );
    expect(unverified).toContain("cannot reach the broker");
    expect((await withCaEnv(undefined, () => brokerRequest(b.url, "GET", "/healthz", HealthResponse, { caFile: pem.cert }))).ok).toBe(true);
    expect((await withCaEnv(pem.cert, () => brokerRequest(b.url, "GET", "/healthz", HealthResponse))).ok).toBe(true);
  });

  test("join with --ca, hello and a message round trip over wss, with the CA kept in the mesh config", async () => {
    const mesh = await withCaEnv(pem.cert, () => createMesh(b, `tls-${backend}`));
    const invite = await withCaEnv(pem.cert, () =>
      brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: { kind: "admin", token: b.adminToken }, body: {} }),
    );
    const bobMember = await withCaEnv(pem.cert, () => addMember(b, mesh, "Bob"));
    const prevHome = process.env.CLAUDEMESH_HOME;
    process.env.CLAUDEMESH_HOME = home.path;
    try {
      await withCaEnv(undefined, async () => {
        const { mesh: alice } = await joinMesh(inviteUrl(b.url, invite.token, mesh.rootKey), "Alice", { caFile: pem.cert });
        expect(alice.brokerUrl).toStartWith("https://");
        expect(loadConfig().meshes.find((m) => m.meshId === mesh.meshId)?.caFile).toBe(pem.cert);
        // Nothing in the environment now: the CA comes from each mesh's config.
        const a = await messagingPeer(loadConfig().meshes.find((m) => m.meshId === mesh.meshId)!);
        const bob = await messagingPeer({ ...bobMember, caFile: pem.cert });
        const sent = await a.messenger.send("Bob", "over TLS", "now");
        const got = await bob.next();
        expect(got).toMatchObject({ messageId: sent.messageId, text: "over TLS", authenticated: true, fromName: "Alice" });
        // and a session without the CA cannot even connect
        await expect(messagingPeer({ ...bobMember, caFile: undefined })).rejects.toThrow();
      });
    } finally {
      if (prevHome === undefined) delete process.env.CLAUDEMESH_HOME;
      else process.env.CLAUDEMESH_HOME = prevHome;
    }
  });
});

describe("TLS through the compiled binary", () => {
  /** Starts `claudemesh broker` and resolves once it listens, with everything it printed so far. */
  async function broker(args: string[], dir: string) {
    const bin = await ensureBinary();
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    delete env.DATABASE_URL;
    const proc = Bun.spawn([bin, "broker", "--port", String(freePort()), "--data-dir", dir, ...args], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    let out = "";
    while (!/claudemesh join '[^']+'/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`broker exited early: ${out}${await new Response(proc.stderr).text()}`);
      out += new TextDecoder().decode(value);
    }
    const stop = async () => {
      proc.kill("SIGTERM");
      await proc.exited;
      return new Response(proc.stderr).text();
    };
    return { out, stop };
  }

  test("broker --tls-cert/--tls-key prints an https invite that join --ca accepts; status authenticates over wss", async () => {
    const dir = tempDir("cm-tls-bin-");
    const home = tempDir("cm-tls-bin-home-");
    const b = await broker(["--tls-cert", pem.cert, "--tls-key", pem.key], dir.path);
    try {
      const url = b.out.match(/claudemesh join '([^']+)'/)?.[1] ?? "";
      expect(url).toStartWith("https://127.0.0.1:");
      const cli = async (...args: string[]) => {
        const env: Record<string, string> = { ...(process.env as Record<string, string>), CLAUDEMESH_HOME: home.path };
        delete env.CLAUDEMESH_CA;
        const p = Bun.spawn([await ensureBinary(), ...args], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        return { out, err, code };
      };
      const refused = await cli("join", url, "--name", "NoCa");
      expect(refused.code).not.toBe(0);
      expect(refused.err).toContain("cannot reach the broker");
      const joined = await cli("join", url, "--name", "Tess", "--ca", pem.cert);
      expect(joined.err).toBe("");
      expect(joined.code).toBe(0);
      const status = await cli("status", "--json");
      expect(JSON.parse(status.out)[0]).toMatchObject({ reachable: true, authenticated: true });
    } finally {
      const err = await b.stop();
      expect(err).not.toContain("without TLS");
      dir.cleanup();
      home.cleanup();
    }
  }, 60_000);

  test("a broker on a non-loopback address without TLS warns once at start", async () => {
    const dir = tempDir("cm-notls-bin-");
    const b = await broker(["--host", "0.0.0.0", "--public-url", "http://127.0.0.1:1"], dir.path);
    const err = await b.stop();
    dir.cleanup();
    expect(err.match(/without TLS/g)).toHaveLength(1);
  }, 60_000);
});
