import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BrokerClient } from "../../src/client/broker-client.ts";
import { loadConfig, type MeshConfig, saveConfig, upsertMesh } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { joinMesh } from "../../src/client/join.ts";
import { generateSigningKeyPair, type KeyPair } from "../../src/crypto/keys.ts";
import type { ChannelEvent } from "../../src/mcp/channel.ts";
import { McpSession } from "../../src/mcp/session.ts";
import { HealthResponse } from "../../src/nodes/api.ts";
import { inviteUrl } from "../../src/protocol/invite-url.ts";
import { startBroker } from "../../src/server/app.ts";
import { ensurePrivateDir } from "../../src/util/fs.ts";
import { backends, PG_URL, tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, closeClients, connect, createMesh, startTestBroker } from "../helpers/broker.ts";
import { messagingPeer, waitForPeer } from "../helpers/messaging.ts";
import { loadBalancer } from "../helpers/load-balancer.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";
import { baseEnv, cleanupMcp, configHome, startMcp } from "../mcp/helpers.ts";
import { waitUntil } from "../helpers/wait.ts";

const health = (url: string) => brokerRequest(url, "GET", "/healthz", HealthResponse);
/** the client's production backoff: what a real session waits between tries */
const PRODUCTION_BACKOFF = { minMs: 200, maxMs: 10_000 };

// These tests write a client config, so each runs with a CLAUDEMESH_HOME of its own.
const home = tempDir("cm-failover-home-");
const previousHome = process.env.CLAUDEMESH_HOME;
let homes = 0;
beforeEach(() => {
  process.env.CLAUDEMESH_HOME = join(home.path, `h${++homes}`);
  ensurePrivateDir(process.env.CLAUDEMESH_HOME);
});
afterAll(async () => {
  await cleanupMcp();
  closeClients();
  if (previousHome === undefined) delete process.env.CLAUDEMESH_HOME;
  else process.env.CLAUDEMESH_HOME = previousHome;
  home.cleanup();
});

/** A session as `claudemesh mcp` runs it, in this process; its channel pushes are recorded. */
async function mcpSession(mesh: MeshConfig, opts: { pin?: string; session?: KeyPair } = {}) {
  const sessionDir = join(process.env.CLAUDEMESH_HOME as string, `s-${Math.random().toString(36).slice(2, 8)}`);
  ensurePrivateDir(sessionDir);
  const pushed: ChannelEvent[] = [];
  const waiters: (() => void)[] = [];
  const s = new McpSession(
    {
      mesh,
      session: opts.session ?? generateSigningKeyPair(),
      displayName: mesh.displayName,
      role: null,
      groups: [],
      sessionDir,
      ...(opts.pin !== undefined ? { pin: opts.pin } : {}),
    },
    async (e) => {
      pushed.push(e);
      for (const w of waiters.splice(0)) w();
    },
  );
  await s.start();
  s.clientReady();
  await s.client.ready(20_000);
  return {
    s,
    pushed,
    /** resolves with the push whose message id is `id` */
    async pushOf(id: string): Promise<ChannelEvent> {
      for (;;) {
        const hit = pushed.find((e) => e.meta.message_id === id);
        if (hit) return hit;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    [Symbol.asyncDispose]: () => s.stop(),
  };
}

/** Resolves at the client's next reconnect, with the URL it reconnected to. */
const nextReconnect = (client: BrokerClient) =>
  new Promise<string>((resolve) => {
    const off = client.on("connected", (_ack, reconnect) => {
      if (!reconnect) return;
      off();
      resolve(client.url);
    });
  });

describe.each(backends())("hello_ack's broker list on %s", (backend) => {
  test("hello_ack names the live nodes' public URLs; a session saves the list when it changed", async () => {
    await using b = await startTestBroker(backend);
    const mesh = await createMesh(b, "one-node");
    const ann = await addMember(b, mesh, "Ann");
    const c = await connect(ann);
    expect(c.ack?.brokers).toEqual([b.url]);
    expect(c.url).toBe(b.url);
    c.close();

    // a config that names a node which has since gone: the session's hello_ack drops it from the file
    saveConfig(upsertMesh(loadConfig(), { ...ann, brokers: [b.url, "http://127.0.0.1:9"] }));
    {
      await using _ = await mcpSession(loadConfig().meshes.find((m) => m.meshId === ann.meshId) as MeshConfig);
      await waitUntil("the list is saved", () => (loadConfig().meshes.find((m) => m.meshId === ann.meshId)?.brokers?.length === 1 ? true : undefined));
    }
    expect(loadConfig().meshes.find((m) => m.meshId === ann.meshId)?.brokers).toEqual([b.url]);
  });
});

test("a URL that accepts the connection but never answers is given up after the connect timeout, and the next URL is tried", async () => {
  await using b = await startTestBroker("sqlite");
  const mesh = await createMesh(b, "silent");
  const ann = await addMember(b, mesh, "Ann");
  // a host that takes the TCP connection and then says nothing (a hung process, a black-holing proxy)
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  await using _silent = { [Symbol.asyncDispose]: async () => silent.stop(true) };
  const silentUrl = `http://127.0.0.1:${silent.port}`;
  const c = new BrokerClient({ mesh: { ...ann, brokerUrl: silentUrl, brokers: [silentUrl, b.url] }, session: generateSigningKeyPair(), connectTimeoutMs: 300 });
  await using _c = { [Symbol.asyncDispose]: async () => c.close() };
  await expect(c.connect()).rejects.toThrow(`the broker at ${silentUrl} did not answer within 300 ms`);
  expect(c.url).toBe(b.url);
  await c.connect();
  expect(c.connected).toBe(true);
  expect(c.ack?.brokers).toEqual([b.url]);
});

describe.if(PG_URL !== undefined && PG_URL !== "")("failover between broker nodes on one Postgres", () => {
  test("join records every live node; a session saves hello_ack's list; status shows each URL, connected or reachable or not", async () => {
    await using a = await startTestBroker("postgres", {}, undefined, { nodeTiming: { heartbeatMs: 50 } });
    using bDir = tempDir("cm-failover-b-");
    const b = await startBroker({ port: 0, dataDir: bDir.path, databaseUrl: PG_URL, dbSchema: a.schema, nodeTiming: { heartbeatMs: 50 } });
    let bRunning = true;
    await using _b = { [Symbol.asyncDispose]: async () => void (bRunning && (await b.stop())) };
    await waitUntil("A sees B at its URL", async () => ((await health(a.url)).nodes.some((n) => n.url === b.url) ? true : undefined));

    const mesh = await createMesh(a, "failover-join");
    const { mesh: joined } = await joinMesh(inviteUrl(a.url, mesh.inviteToken, mesh.rootKey), "Jo");
    expect(joined.brokerUrl).toBe(a.url);
    expect(joined.brokers).toEqual([a.url, b.url]);
    expect(loadConfig().meshes.find((m) => m.meshId === mesh.meshId)?.brokers).toEqual([a.url, b.url]);

    // joined before B existed: the first hello_ack brings B, and the session saves it
    saveConfig(upsertMesh(loadConfig(), { ...joined, brokers: [a.url] }));
    {
      await using jo = await mcpSession({ ...joined, brokers: [a.url] });
      expect([...(jo.s.client.ack?.brokers ?? [])].sort()).toEqual([a.url, b.url].sort());
      await waitUntil("the list is saved", () => (loadConfig().meshes.find((m) => m.meshId === mesh.meshId)?.brokers?.length === 2 ? true : undefined));
      expect(loadConfig().meshes.find((m) => m.meshId === mesh.meshId)?.brokers).toEqual([a.url, b.url]);
    }

    const bin = await ensureBinary();
    const status = async (...args: string[]) => {
      const p = Bun.spawn([bin, "status", ...args], { env: { ...process.env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { out, err, code };
    };
    const json = await status("--json");
    expect(json.code).toBe(0);
    const probe = (JSON.parse(json.out) as { slug: string; brokers: unknown[] }[]).find((p) => p.slug === "failover-join");
    expect(probe).toMatchObject({
      brokerUrl: a.url,
      authenticated: true,
      brokers: [
        { url: a.url, reachable: true, connected: true, nodeId: a.node.id, error: null },
        { url: b.url, reachable: true, connected: false, nodeId: b.node.id, error: null },
      ],
    });
    const text = await status();
    const row = (url: string, state: string) => new RegExp(`${url.replace(/[.:/]/g, "\\$&")}\\s+${state}`);
    expect(text.out).toMatch(row(a.url, "ok, connected"));
    expect(text.out).toMatch(row(b.url, "reachable"));

    // B gone: status says so, and the mesh is still fine through A
    await b.stop();
    bRunning = false;
    const down = await status();
    expect(down.code).toBe(0);
    expect(down.out).toMatch(row(a.url, "ok, connected"));
    expect(down.out).toMatch(row(b.url, "unreachable: "));
  }, 60_000);

  test("kill -9 of a session's node: back on the other node within 10 s with its session key, and it gets what was queued for it; a pinned session stays on its node", async () => {
    using shared = tempDir("cm-failover-token-");
    const tokenFile = join(shared.path, "admin-token");
    await using a = new ProcessBroker("postgres", { args: ["--admin-token-file", tokenFile] });
    await a.start();
    await using b = new ProcessBroker("postgres", { shareSchema: a.schema as string, args: ["--admin-token-file", tokenFile] });
    await b.start();
    await waitUntil("A sees B at its URL", async () => ((await health(a.url)).nodes.some((n) => n.url === b.url) ? true : undefined));

    const mesh = await createMesh(a, "failover");
    const both = [a.url, b.url];
    const sam = { ...(await addMember(a, mesh, "Sam")), brokers: both };
    // Tess joined through B: her sessions go there first
    const tess = { ...(await addMember(a, mesh, "Tess")), brokerUrl: b.url, brokers: [b.url, a.url] };
    const pat = { ...(await addMember(a, mesh, "Pat")), brokers: both };
    const samKey = generateSigningKeyPair();
    await using s = await mcpSession(sam, { session: samKey });
    const t = await messagingPeer(tess, { backoff: PRODUCTION_BACKOFF });
    // `launch --broker` / `mcp --broker`
    await using p = await mcpSession(pat, { pin: a.url });
    expect([s.s.client.url, t.client.url, p.s.client.url]).toEqual([a.url, b.url, a.url]);

    // Sam is busy: a `next` message is held for him, a `low` one waits for check_messages
    await s.s.applyHook("working");
    await waitForPeer(t, "Sam", "working");
    const held = await t.messenger.send("Sam", "held while you were busy", "next");
    const low = await t.messenger.send("Sam", "whenever you look", "low");
    const marker = await t.messenger.send("Sam", "now, before the crash", "now");
    await s.pushOf(marker.messageId);
    expect(s.pushed.map((e) => e.meta.message_id)).toEqual([marker.messageId]);

    const samBack = nextReconnect(s.s.client);
    await a.kill9();
    const killedAt = Date.now();
    // sent while Sam's node is dead, before B has noticed: accepted, and kept for Sam's key
    const away = await t.messenger.send("Sam", "sent while your node was down", "now");
    expect(away.recipients.map((r) => r.sessionPubkey)).toEqual([samKey.publicKey]);
    expect(await samBack).toBe(b.url);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect((await s.pushOf(away.messageId)).content).toContain("sent while your node was down");

    // the node B sees is Sam's session, with the key it had, still busy
    const samOnB = await waitForPeer(t, "Sam", "working");
    expect(samOnB.sessionPubkey).toBe(samKey.publicKey);
    // Sam goes idle on B: the message held on A is pushed now, and the low one is in his queue
    await s.s.applyHook("idle");
    const pushed = await s.pushOf(held.messageId);
    expect(pushed.content).toContain("held while you were busy");
    const { messages: drained } = await s.s.messenger.drain();
    expect(drained.map((m) => m.text)).toContain("whenever you look");
    expect(drained.find((m) => m.messageId === low.messageId)?.fromName).toBe("Tess");
    // the session's HTTP side follows it: its file routes answer on B with B's token
    expect(await s.s.context.files.list()).toEqual([]);

    // pinned to A: never on B, and back on A once A is
    expect(p.s.client.connected).toBe(false);
    expect(p.s.client.url).toBe(a.url);
    await waitUntil("B declares A dead", async () => ((await health(b.url)).nodes.every((n) => n.url !== a.url) ? true : undefined), 10_000);
    const names = async () => (await t.client.request({ type: "list_peers" }, "peers_list")).peers.map((x) => x.name).sort();
    expect(await names()).toEqual(["Sam", "Tess"]);
    const patBack = nextReconnect(p.s.client);
    await a.start();
    expect(await patBack).toBe(a.url);
    await waitUntil("B sees Pat again, on A", async () => ((await names()).includes("Pat") ? true : undefined));
  }, 90_000);

  test("behind a load balancer with one URL: the list is that URL, and a session whose node is killed comes back through it, on the other node, key and queue kept", async () => {
    using shared = tempDir("cm-failover-lb-token-");
    const nodes: string[] = [];
    await using lb = loadBalancer(nodes);
    // every node is reached, and announces itself, as the balancer's URL
    const args = ["--admin-token-file", join(shared.path, "admin-token"), "--public-url", lb.url];
    await using a = new ProcessBroker("postgres", { args });
    await using b = new ProcessBroker("postgres", { shareSchema: a.schema as string, args });
    nodes.push(a.url, b.url);
    await a.start();
    await b.start();
    await waitUntil("A sees B, both at the balancer's URL", async () => {
      const seen = (await health(a.url)).nodes;
      return seen.length === 2 && seen.every((n) => n.url === lb.url) ? true : undefined;
    });

    const mesh = await createMesh(a, "behind-lb");
    const viaLb = async (name: string) => ({ ...(await addMember(a, mesh, name)), brokerUrl: lb.url, brokers: [lb.url] });
    const samKey = generateSigningKeyPair();
    await using s = await mcpSession(await viaLb("Sam"), { session: samKey });
    expect(s.s.client.ack?.brokers).toEqual([lb.url]);
    expect(s.s.client.brokers.all).toEqual([lb.url]);
    const t = await messagingPeer(await viaLb("Tess"), { backoff: PRODUCTION_BACKOFF });
    await s.s.applyHook("working");
    await waitForPeer(t, "Sam", "working");
    const held = await t.messenger.send("Sam", "held behind the balancer", "next");
    const idA = (await health(a.url)).node.id;
    expect((await health(lb.url)).node.id).toBe(idA);

    const samBack = nextReconnect(s.s.client);
    await a.kill9();
    const killedAt = Date.now();
    expect(await samBack).toBe(lb.url);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect((await health(lb.url)).node.id).toBe((await health(b.url)).node.id);
    expect((await waitForPeer(t, "Sam", "working")).sessionPubkey).toBe(samKey.publicKey);
    await s.s.applyHook("idle");
    expect((await s.pushOf(held.messageId)).content).toContain("held behind the balancer");
  }, 90_000);

  test("`claudemesh mcp --broker URL` connects there only, whatever the mesh's list says, and still saves the mesh's list", async () => {
    await using b = await startTestBroker("postgres");
    const mesh = await createMesh(b, "pinned-mcp");
    const ann = await addMember(b, mesh, "Ann");
    // the config names only a URL where no broker listens: without the pin the session could never connect
    const dead = "http://127.0.0.1:9";
    const home = configHome([{ ...ann, brokerUrl: dead, brokers: [dead] }]);
    const bin = await ensureBinary();
    const mcp = await startMcp(bin, baseEnv({ CLAUDEMESH_HOME: home }), [bin, "mcp", "--broker", b.url]);
    expect((await mcp.call("list_peers")).isError).toBe(false);
    await waitUntil("the list is saved", async () => {
      const saved = JSON.parse(await Bun.file(join(home, "config.json")).text());
      return saved.meshes[0].brokers.length === 2 ? saved.meshes[0].brokers : undefined;
    }).then((brokers) => expect(brokers).toEqual([dead, b.url]));
    expect(mcp.stderr()).toContain(`"broker":"${b.url}"`);
  }, 60_000);
});
