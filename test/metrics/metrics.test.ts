import { afterAll, describe, expect, test } from "bun:test";
import { startBroker } from "../../src/server/app.ts";
import { setLogFormat } from "../../src/util/log.ts";
import { log } from "../../src/util/log.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { addMember, closeClients, connect, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { flush, messagingPeer } from "../helpers/messaging.ts";
import { Scrape } from "../helpers/prometheus.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";

async function scrape(url: string, token?: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return new Scrape(await res.text());
}

describe.each(backends())("GET /metrics on %s", (backend) => {
  let b: TestBroker;
  afterAll(async () => {
    closeClients();
    await b?.destroy();
  });

  test("refused without the admin token (401), and a session's bearer token is not enough", async () => {
    b = await startTestBroker(backend);
    expect((await fetch(`${b.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${b.url}/metrics`, { headers: { authorization: "Bearer not-the-token" } })).status).toBe(401);
    const mesh = await createMesh(b, "metrics-auth");
    const client = await connect(await addMember(b, mesh, "Alice"));
    const sessionToken = client.ack?.token as string;
    expect((await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${sessionToken}` } })).status).toBe(401);
    client.close();
  });

  test("counters move as sessions connect and messages flow; gauges describe the broker now", async () => {
    const before = await scrape(b.url, b.adminToken);
    const mesh = await createMesh(b, "metrics");
    const alice = await messagingPeer(await addMember(b, mesh, "Alice"));
    const bob = await messagingPeer(await addMember(b, mesh, "Bob"), { status: "working" });
    await alice.messenger.send("Bob", "right away", "now");
    await alice.messenger.send("Bob", "when idle", "next");
    await flush(alice, bob);
    // a refused hello: Bob's member key with a session signature that does not match
    const carol = await addMember(b, mesh, "Carol");
    await expect(connect({ ...carol, secretKey: generateSigningKeyPair().secretKey }, { reconnect: false })).rejects.toThrow();

    const after = await scrape(b.url, b.adminToken);
    const moved = (name: string, labels?: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    expect(moved("claudemesh_hellos_total", { outcome: "accepted" })).toBeGreaterThanOrEqual(2);
    expect(moved("claudemesh_hellos_total", { outcome: "bad_member_signature" })).toBe(1);
    expect(moved("claudemesh_frames_total", { type: "send" })).toBeGreaterThanOrEqual(3);
    expect(moved("claudemesh_frames_total", { type: "hello" })).toBeGreaterThanOrEqual(3);
    expect(moved("claudemesh_messages_total", { priority: "now", outcome: "stored" })).toBeGreaterThanOrEqual(2); // the message and flush's marker
    expect(moved("claudemesh_messages_total", { priority: "next", outcome: "stored" })).toBe(1);
    expect(moved("claudemesh_pushes_total")).toBeGreaterThanOrEqual(2);
    expect(after.count("claudemesh_push_latency_seconds") - before.count("claudemesh_push_latency_seconds")).toBeGreaterThanOrEqual(2);
    expect(after.count("claudemesh_db_commit_seconds")).toBeGreaterThan(before.count("claudemesh_db_commit_seconds"));
    expect(after.count("claudemesh_commit_batch_size")).toBeGreaterThan(before.count("claudemesh_commit_batch_size"));
    // Bob is working: the `next` message waits in his queue
    expect(after.value("claudemesh_queue_depth")).toBe(1);
    expect(after.value("claudemesh_sessions", { mesh: mesh.meshId })).toBe(2);
    expect(after.value("claudemesh_connections")).toBeGreaterThanOrEqual(2);
    expect(after.value("process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(after.families.has("nodejs_eventloop_lag_p99_seconds")).toBe(true);

    await bob.client.request({ type: "set_status", status: "idle" });
    expect((await bob.next()).text).toBe("when idle");
    await bob.client.request({ type: "list_peers" }); // Bob's frames are handled in order: his receipt is stored
    const drained = await scrape(b.url, b.adminToken);
    expect(drained.value("claudemesh_queue_depth")).toBe(0);
  });
});

test("--metrics-host serves /metrics on its own listener without a token; the main port still wants one", async () => {
  const dir = tempDir("cm-metrics-");
  const b = await startBroker({ port: 0, dataDir: dir.path, metricsListen: { host: "127.0.0.1", port: 0 } });
  try {
    expect(b.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const s = await scrape(b.metricsUrl as string);
    expect(s.families.has("claudemesh_frames_total")).toBe(true);
    expect((await fetch(`${b.metricsUrl}/admin/meshes`)).status).toBe(404); // nothing else is served there
    expect((await fetch(`${b.url}/metrics`)).status).toBe(401);
  } finally {
    await b.stop();
    dir.cleanup();
  }
});

test("--log-format json: one object a line with time, level and event; secret-looking fields redacted", () => {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    setLogFormat("json");
    log.warn("could not record disconnect", { mesh: "mesh_1", token: "s3cret", event: "spoofed", nested: { secretKey: "k" } });
  } finally {
    setLogFormat("text");
    process.stderr.write = write;
  }
  expect(lines).toHaveLength(1);
  expect(lines[0]?.endsWith("\n")).toBe(true);
  const o = JSON.parse(lines[0] as string);
  expect(o).toMatchObject({ level: "warn", event: "could not record disconnect", mesh: "mesh_1", token: "[redacted]", nested: { secretKey: "[redacted]" } });
  expect(Number.isNaN(Date.parse(o.time))).toBe(false);
  expect(lines.join("")).not.toContain("s3cret");
});

test("a scrape does nothing on the event loop that grows with the process: no heap walk, no synchronous read of /proc/self/fd", async () => {
  // the module objects prom-client requires, not the read-only ESM namespaces
  const v8 = (await import("node:v8")).default;
  const fs = (await import("node:fs")).default;
  const dir = tempDir("cm-metrics-heap-");
  const b = await startBroker({ port: 0, dataDir: dir.path, metricsListen: { host: "127.0.0.1", port: 0 } });
  const heapSpaces = v8.getHeapSpaceStatistics;
  const readdirSync = fs.readdirSync;
  let walks = 0;
  let fdReads = 0;
  v8.getHeapSpaceStatistics = () => {
    walks++;
    return heapSpaces();
  };
  fs.readdirSync = ((path: string, ...rest: unknown[]) => {
    if (String(path).startsWith("/proc/self/fd")) fdReads++;
    return (readdirSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readdirSync;
  try {
    const s = await scrape(b.metricsUrl as string);
    // under Bun the first walks the whole heap (~100 ms at a million objects); the second lists every socket
    expect(walks).toBe(0);
    expect(fdReads).toBe(0);
    // what stays: the heap's size from process.memoryUsage(), the process's memory, its descriptors
    expect(s.value("nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(s.value("process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(s.families.has("nodejs_heap_space_size_used_bytes")).toBe(false);
    if (process.platform === "linux") expect(s.value("process_open_fds")).toBeGreaterThan(2);
  } finally {
    v8.getHeapSpaceStatistics = heapSpaces;
    fs.readdirSync = readdirSync;
    await b.stop();
    dir.cleanup();
  }
});
