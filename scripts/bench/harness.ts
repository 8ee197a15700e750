/** What the benches share: a throwaway broker, a mesh and members made as an operator would, percentiles. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { BrokerLimits } from "../../src/broker/config.ts";
import { type RunningBroker, startBroker } from "../../src/server/app.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { b64url } from "../../src/crypto/encoding.ts";
import { generateRootKey, generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { CreateMeshResponse, InviteResponse, JoinResponse } from "../../src/meshes/api.ts";

export interface BenchBroker {
  broker: RunningBroker;
  /** Stops the broker and removes its data dir and, on Postgres, its schema. */
  stop(): Promise<void>;
}

/** A broker on a fresh data dir, and on Postgres (`databaseUrl`) in a schema of its own. */
export async function startBenchBroker(databaseUrl: string | undefined, limits: Partial<BrokerLimits>): Promise<BenchBroker> {
  const dir = mkdtempSync(join(tmpdir(), "cm-bench-"));
  // Random as well as timed: a bench may run two brokers at once.
  const schema = databaseUrl ? `cm_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}` : undefined;
  const broker = await startBroker({ port: 0, dataDir: dir, databaseUrl, dbSchema: schema, limits });
  return {
    broker,
    async stop() {
      await broker.stop();
      if (databaseUrl && schema) {
        const { SQL } = await import("bun");
        const sql = new SQL(databaseUrl);
        await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await sql.close();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BenchMesh {
  meshId: string;
  rootKey: string;
  /** the owner's membership, as `claudemesh mesh create` stores it */
  owner: MeshConfig;
}

/** Creates a mesh through the admin API, with its owner. */
export async function createBenchMesh(b: RunningBroker, slug: string, ownerName: string): Promise<BenchMesh> {
  const rootKey = b64url.encode(generateRootKey());
  const keys = generateSigningKeyPair();
  const res = await brokerRequest(b.url, "POST", "/admin/meshes", CreateMeshResponse, {
    auth: { kind: "admin", token: b.adminToken },
    body: { slug, ownerPubkey: keys.publicKey, ownerName },
  });
  const owner: MeshConfig = {
    slug,
    meshId: res.meshId,
    brokerUrl: b.url,
    memberId: res.memberId,
    displayName: ownerName,
    role: "owner",
    pubkey: keys.publicKey,
    secretKey: keys.secretKey,
    rootKey,
    joinedAt: Date.now(),
  };
  return { meshId: res.meshId, rootKey, owner };
}

/** Enrolls a member through an admin invite and POST /join. */
export async function addBenchMember(b: RunningBroker, mesh: BenchMesh, name: string): Promise<MeshConfig> {
  const keys = generateSigningKeyPair();
  const inv = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: { kind: "admin", token: b.adminToken }, body: {} });
  const j = await brokerRequest(b.url, "POST", "/join", JoinResponse, { body: { token: inv.token, pubkey: keys.publicKey, displayName: name } });
  return {
    slug: j.slug,
    meshId: mesh.meshId,
    brokerUrl: b.url,
    memberId: j.memberId,
    displayName: name,
    role: j.role,
    pubkey: keys.publicKey,
    secretKey: keys.secretKey,
    rootKey: mesh.rootKey,
    joinedAt: Date.now(),
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** `p50 … ms  p99 … ms`; `widths` pads the two figures so that rows line up. */
export function percentiles(xs: number[], widths: [p50: number, p99: number] = [0, 0]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(2).padStart(widths[0])} ms  p99 ${pct(s, 99).toFixed(2).padStart(widths[1])} ms`;
}

/**
 * A child (`bun …args`) whose stdout says when it is ready: what it printed until `ready` held, and the
 * process; the rest of its output is drained, so a chatty child never blocks on a full pipe.
 */
export async function spawnReady(
  args: string[],
  ready: (text: string) => boolean,
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ proc: Subprocess<"ignore", "pipe", "inherit">; text: string }> {
  const proc = Bun.spawn([process.execPath, ...args], { stdin: "ignore", stdout: "pipe", stderr: "inherit", env: opts.env, cwd: opts.cwd });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!ready(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${args.join(" ")} exited before it was ready: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return { proc, text };
}
