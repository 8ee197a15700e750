import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { brokerRequest } from "../../src/client/http.ts";
import { HealthResponse, NodesResponse } from "../../src/nodes/api.ts";
import { NODE_ID_FILE } from "../../src/nodes/node-id.ts";
import { startBroker } from "../../src/server/app.ts";
import { backends, freshSchema, dropSchema, PG_URL, tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, closeClients, connect, createMesh, outcome, startTestBroker } from "../helpers/broker.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";
import { waitUntil } from "../helpers/wait.ts";

const health = (url: string) => brokerRequest(url, "GET", "/healthz", HealthResponse);
const nodesOf = (url: string, token: string) => brokerRequest(url, "GET", "/admin/nodes", NodesResponse, { auth: { kind: "admin", token } });

afterAll(() => closeClients());

describe.each(backends())("a broker is a node on %s", (backend) => {
  test("/healthz names the node and the live nodes; /admin/nodes lists them for the operator only", async () => {
    await using b = await startTestBroker(backend, {}, undefined, { nodeTiming: { heartbeatMs: 50 } });
    const h = await health(b.url);
    expect(h.node).toEqual({ id: b.node.id, url: b.url });
    expect(h.nodes).toEqual([{ id: b.node.id, url: b.url }]);
    expect(b.node.id).toMatch(/^node_[a-z0-9]{12}$/);

    const mesh = await createMesh(b, "nodes");
    await connect(await addMember(b, mesh, "Alice"));
    const listed = await waitUntil("the heartbeat counts Alice's session", async () => {
      const [n] = (await nodesOf(b.url, b.adminToken)).nodes;
      return n?.sessions === 1 ? n : undefined;
    });
    expect(listed).toMatchObject({ id: b.node.id, url: b.url, alive: true, self: true, stoppedAt: null });
    expect(await outcome(brokerRequest(b.url, "GET", "/admin/nodes", NodesResponse))).toBe("unauthorized");
    expect(await outcome(brokerRequest(b.url, "GET", "/admin/nodes", NodesResponse, { auth: { kind: "member", mesh: mesh.owner } }))).toBe("unauthorized");
  });

  test("the node id is kept in the data dir across restarts; --node-id is kept too; a bad one is refused", async () => {
    const dir = tempDir("cm-node-id-");
    const schema = backend === "postgres" ? freshSchema() : undefined;
    const start = (nodeId?: string) =>
      startBroker({ port: 0, dataDir: dir.path, databaseUrl: backend === "postgres" ? PG_URL : undefined, dbSchema: schema, ...(nodeId ? { nodeId } : {}) });
    try {
      const first = await start();
      const id = first.node.id;
      await first.stop();
      const again = await start();
      expect(again.node.id).toBe(id);
      expect(readFileSync(join(dir.path, NODE_ID_FILE), "utf8").trim()).toBe(id);
      // a clean stop is seen at once, not after the dead-node delay
      await again.stop();
      const named = await start("eu-west-1");
      expect(named.node.id).toBe("eu-west-1");
      const list = (await nodesOf(named.url, named.adminToken)).nodes;
      expect(list.map((n) => [n.id, n.alive])).toEqual([
        ["eu-west-1", true],
        [id, false],
      ]);
      await named.stop();
      const kept = await start();
      expect(kept.node.id).toBe("eu-west-1");
      await kept.stop();
      await expect(start("../etc")).rejects.toThrow(/invalid --node-id/);
    } finally {
      if (schema) await dropSchema(schema);
      dir.cleanup();
    }
  });
});

test("--admin-token-file: the token is kept there, and a short one found there is refused", async () => {
  using dir = tempDir("cm-token-file-");
  const file = join(dir.path, "token");
  const b = await startBroker({ port: 0, dataDir: join(dir.path, "data"), adminTokenFile: file });
  try {
    expect(b.adminTokenFile).toBe(file);
    expect(readFileSync(file, "utf8").trim()).toBe(b.adminToken);
    expect(existsSync(join(dir.path, "data", "admin-token"))).toBe(false);
  } finally {
    await b.stop();
  }
  writeFileSync(file, "hunter2\n");
  await expect(startBroker({ port: 0, dataDir: join(dir.path, "data"), adminTokenFile: file })).rejects.toThrow(/shorter than 32 characters/);
});

describe("one SQLite file serves one broker", () => {
  test("a second broker process on the same data dir refuses to start, saying why; after kill -9 of the first one it starts", async () => {
    await using first = new ProcessBroker("sqlite");
    await first.start();
    {
      const bin = await ensureBinary();
      const second = Bun.spawn([bin, "broker", "--port", "0", "--data-dir", first.dir.path], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      const [err, code] = await Promise.all([new Response(second.stderr).text(), second.exited]);
      expect(code).not.toBe(0);
      expect(err).toContain("another broker is running on this SQLite database");
      expect(err).toContain("run several brokers on Postgres (DATABASE_URL)");
      expect((await health(first.url)).ok).toBe(true);

      await first.kill9();
      const restarted = new ProcessBroker("sqlite", { dir: first.dir });
      await restarted.start();
      expect((await health(restarted.url)).node.id).toBe(readFileSync(join(first.dir.path, NODE_ID_FILE), "utf8").trim());
      await restarted.stop();
    }
  }, 60_000);
});

describe.if(PG_URL !== undefined && PG_URL !== "")("several broker processes on one Postgres", () => {
  test("nodes starting at the same moment on a fresh database migrate it once, together", async () => {
    const schema = freshSchema();
    const dirs = [tempDir("cm-node-a-"), tempDir("cm-node-b-"), tempDir("cm-node-c-")];
    try {
      const nodes = await Promise.all(dirs.map((d) => startBroker({ port: 0, dataDir: d.path, databaseUrl: PG_URL, dbSchema: schema })));
      expect(new Set(nodes.map((n) => n.node.id)).size).toBe(3);
      const sql = new SQL(PG_URL as string);
      const versions = (await sql.unsafe(`SELECT version FROM ${schema}.schema_migrations`)) as { version: number }[];
      await sql.close();
      expect(versions.length).toBe(new Set(versions.map((v) => v.version)).size);
      expect(versions.map((v) => Number(v.version))).toContain(15);
      await Promise.all(nodes.map((n) => n.stop()));
    } finally {
      await dropSchema(schema);
      for (const d of dirs) d.cleanup();
    }
  });

  test("nodes see each other; a starting node leaves the others' sessions alone; a killed node is declared dead within 10 s and its sessions closed", async () => {
    // one admin token for the cluster: every node is started with the same --admin-token-file
    using shared = tempDir("cm-cluster-token-");
    const tokenFile = join(shared.path, "admin-token");
    await using a = new ProcessBroker("postgres", { args: ["--admin-token-file", tokenFile] });
    await a.start();
    await using b = new ProcessBroker("postgres", { shareSchema: a.schema as string, args: ["--admin-token-file", tokenFile] });
    const sql = new SQL(PG_URL as string);
    await using _sql = { [Symbol.asyncDispose]: () => sql.close() };
    const presence = async () =>
      (await sql.unsafe(`SELECT node_id, disconnected_at FROM ${a.schema}.presence ORDER BY connected_at`)) as {
        node_id: string;
        disconnected_at: string | null;
      }[];
    // a hello does not wait for its presence row (written within PRESENCE_COMMIT_MS): wait for the rows
    const presenceRows = (n: number) => waitUntil(`${n} presence rows`, async () => ((await presence()).length === n ? presence() : undefined));
    {
      const mesh = await createMesh(a, "cluster");
      const alice = await addMember(a, mesh, "Alice");
      await connect(alice);
      const idA = (await health(a.url)).node.id;
      expect(await presenceRows(1)).toEqual([{ node_id: idA, disconnected_at: null }]);

      // B starts on the same store: A's session stays open (a start closes only its own node's rows)
      await b.start();
      const idB = (await health(b.url)).node.id;
      expect(idB).not.toBe(idA);
      const bob = await addMember(a, mesh, "Bob");
      await connect({ ...bob, brokerUrl: b.url });
      expect(await presenceRows(2)).toEqual([
        { node_id: idA, disconnected_at: null },
        { node_id: idB, disconnected_at: null },
      ]);
      // each sees the other from its next heartbeat on
      const both = [
        { id: idA, url: a.url },
        { id: idB, url: b.url },
      ].sort((x, y) => x.id.localeCompare(y.id));
      for (const url of [a.url, b.url]) {
        const seen = await waitUntil(`${url} sees both nodes`, async () => {
          const nodes = (await health(url)).nodes.sort((x, y) => x.id.localeCompare(y.id));
          return nodes.length === 2 ? nodes : undefined;
        });
        expect(seen).toEqual(both);
      }

      // the operator's view, through the binary, with the one token on any node
      expect(b.adminToken).toBe(a.adminToken);
      expect(existsSync(join(a.dir.path, "admin-token"))).toBe(false);
      expect((await nodesOf(a.url, b.adminToken)).nodes).toHaveLength(2);
      const bin = await ensureBinary();
      const cli = Bun.spawn([bin, "nodes", "--broker", b.url, "--admin-token", b.adminToken], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      const [out, code] = await Promise.all([new Response(cli.stdout).text(), cli.exited]);
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`${idA}\\s+${a.url.replace(/[.:/]/g, "\\$&")}\\s+live\\s`));
      expect(out).toMatch(new RegExp(`${idB}\\s+${b.url.replace(/[.:/]/g, "\\$&")}\\s+live \\(answered\\)`));

      // kill -9 A: B declares it dead and closes its session's row, within 10 s
      await a.kill9();
      const killedAt = Date.now();
      await waitUntil("B sees A dead", async () => ((await health(b.url)).nodes.every((n) => n.id !== idA) ? true : undefined), 10_000);
      await waitUntil("A's session closed", async () => ((await presence())[0]?.disconnected_at !== null ? true : undefined), 2_000);
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      const rows = await presence();
      expect(rows[1]).toEqual({ node_id: idB, disconnected_at: null });
      expect((await nodesOf(b.url, b.adminToken)).nodes.find((n) => n.id === idA)).toMatchObject({ alive: false });
    }
  }, 90_000);
});
