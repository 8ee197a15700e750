import type { BrokerLimits } from "../../src/broker/config.ts";
import { type BrokerOptions, type RunningBroker, startBroker } from "../../src/server/app.ts";
import { BrokerClient, type BrokerClientOptions } from "../../src/client/broker-client.ts";
import { SESSION_TRACKERS } from "../../src/mcp/registry.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { b64url } from "../../src/crypto/encoding.ts";
import { generateRootKey, generateSigningKeyPair, type KeyPair } from "../../src/crypto/keys.ts";
import { signHello, type UnsignedHello } from "../../src/client/hello-sign.ts";
import { CreateMeshResponse, InviteResponse, JoinResponse } from "../../src/meshes/api.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { LocalError } from "../../src/util/errors.ts";
import { type Backend, dropSchema, freshSchema, markPostgresRan, PG_URL, tempDir } from "./backends.ts";

/** Disposing it (`await using`, or a suiteFixture's stack) is destroy(). */
export interface TestBroker extends RunningBroker, AsyncDisposable {
  backend: Backend;
  /** the Postgres schema of this broker's store (undefined on SQLite) */
  schema?: string;
  /** Closes the test clients connected to it, stops the broker and removes its data. */
  destroy(): Promise<void>;
  /** Stops and starts a broker on the same data (and port 0 → a new port). */
  restart(limits?: Partial<BrokerLimits>): Promise<TestBroker>;
}

/** Options of startBroker that a suite may add: the broker's clock (a ManualClock, for TTLs), the files' S3 store, limits and clock, the nodes' heartbeat timing, a fixed port (a restart its clients follow). */
export type ExtraBrokerOptions = Pick<BrokerOptions, "clock" | "s3" | "files" | "filesClock" | "nodeTiming" | "tls" | "port">;

export async function startTestBroker(
  backend: Backend,
  limits: Partial<BrokerLimits> = {},
  reuse?: { dataDir: string; schema?: string; cleanup(): void },
  extra: ExtraBrokerOptions = {},
): Promise<TestBroker> {
  // A restarted broker owns the same data dir, so its destroy() removes it.
  const dir = reuse ? { path: reuse.dataDir, cleanup: reuse.cleanup } : tempDir("cm-broker-");
  const schema = backend === "postgres" ? (reuse?.schema ?? freshSchema()) : undefined;
  // The marker names the suite: the first caller outside these helpers (twoMeshes calls from here too).
  if (backend === "postgres")
    markPostgresRan(
      new Error().stack
        ?.split("\n")
        .slice(2)
        .find((f) => !f.includes("/test/helpers/"))
        ?.trim() ?? "postgres",
    );
  const running = await startBroker({
    port: 0,
    dataDir: dir.path,
    databaseUrl: backend === "postgres" ? PG_URL : undefined,
    dbSchema: schema,
    // Every test socket comes from 127.0.0.1: a suite that opens sockets fast on an idle machine would
    // meet the per-address connection budget (20/s) it is not about. The budget tests set their own.
    limits: { pingIntervalMs: 60_000, sweepIntervalMs: 60_000, connectRatePerAddress: 10_000, ...limits },
    ...extra,
  });
  // After restart() the broker that runs is the successor: whoever disposes this one (a suite fixture
  // holding the first) must stop that one, or it outlives the suite and its schema.
  let successor: TestBroker | null = null;
  const destroy = async (): Promise<void> => {
    if (successor) return successor.destroy();
    closeClients(running.url);
    await running.stop();
    if (schema) await dropSchema(schema);
    dir.cleanup();
  };
  const tb: TestBroker = {
    ...running,
    backend,
    schema,
    destroy,
    [Symbol.asyncDispose]: destroy,
    async restart(l = limits) {
      await running.stop();
      successor = await startTestBroker(backend, l, { dataDir: dir.path, schema, cleanup: dir.cleanup }, extra);
      return successor;
    },
  };
  return tb;
}

/** Anything with a broker URL and its admin token: an in-process broker or a broker process. */
export type BrokerRef = Pick<RunningBroker, "url" | "adminToken">;

export interface TestMesh {
  slug: string;
  meshId: string;
  rootKey: string;
  owner: MeshConfig;
  inviteToken: string;
}

/** Creates a mesh through the admin API, as `claudemesh mesh create` does. */
export async function createMesh(b: BrokerRef, slug: string): Promise<TestMesh> {
  const ownerKeys = generateSigningKeyPair();
  const rootKey = b64url.encode(generateRootKey());
  const res = await brokerRequest(b.url, "POST", "/admin/meshes", CreateMeshResponse, {
    auth: { kind: "admin", token: b.adminToken },
    body: { slug, ownerPubkey: ownerKeys.publicKey, ownerName: `${slug}-owner` },
  });
  const owner: MeshConfig = {
    slug,
    meshId: res.meshId,
    brokerUrl: b.url,
    memberId: res.memberId,
    displayName: `${slug}-owner`,
    role: "owner",
    pubkey: ownerKeys.publicKey,
    secretKey: ownerKeys.secretKey,
    rootKey,
    joinedAt: Date.now(),
  };
  return { slug, meshId: res.meshId, rootKey, owner, inviteToken: res.invite.token };
}

/** Enrolls a new member through POST /join with a fresh invite. */
export async function addMember(b: BrokerRef, mesh: TestMesh, name: string, keys: KeyPair = generateSigningKeyPair()): Promise<MeshConfig> {
  const inv = await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, {
    auth: { kind: "admin", token: b.adminToken },
    body: {},
  });
  const res = await brokerRequest(b.url, "POST", "/join", JoinResponse, {
    body: { token: inv.token, pubkey: keys.publicKey, displayName: name },
  });
  return {
    slug: mesh.slug,
    meshId: res.meshId,
    brokerUrl: b.url,
    memberId: res.memberId,
    displayName: name,
    role: res.role,
    pubkey: keys.publicKey,
    secretKey: keys.secretKey,
    rootKey: mesh.rootKey,
    joinedAt: Date.now(),
  };
}

export interface TwoMeshes<M extends string, O extends string> {
  broker: TestBroker;
  mesh: TestMesh;
  other: TestMesh;
  /** every member by display name, of both meshes */
  members: Record<M | O, MeshConfig>;
}

/**
 * A broker for suites that fuzz a mesh and check that another mesh never sees it: mesh `slug` with
 * `members`, mesh `<slug>-other` with `outsiders`. The fuzz tests send far more frames per second than a
 * real session may, so the frame rate limit is lifted.
 */
export async function twoMeshes<M extends string, O extends string>(backend: Backend, slug: string, members: M[], outsiders: O[]): Promise<TwoMeshes<M, O>> {
  const broker = await startTestBroker(backend, { frameRatePerSec: 1_000_000, memberFrameRatePerSec: 1_000_000 });
  const mesh = await createMesh(broker, slug);
  const other = await createMesh(broker, `${slug}-other`);
  const all = {} as Record<M | O, MeshConfig>;
  for (const name of members) all[name] = await addMember(broker, mesh, name);
  for (const name of outsiders) all[name] = await addMember(broker, other, name);
  return { broker, mesh, other, members: all };
}

/** The broker's error code for a rejected request (a local error's kind), or "ok". */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof WireError) return err.code;
    if (err instanceof LocalError) return err.kind;
    throw err;
  }
}

const clients: { client: BrokerClient; brokerUrl: string }[] = [];

/** Connects a session for a member; closed automatically by `closeClients`. */
export async function connect(member: MeshConfig, opts: Partial<BrokerClientOptions> = {}): Promise<BrokerClient> {
  const c = new BrokerClient({
    mesh: member,
    session: opts.session ?? generateSigningKeyPair(),
    displayName: member.displayName,
    backoff: { minMs: 20, maxMs: 200 },
    trackers: SESSION_TRACKERS,
    ...opts,
  });
  clients.push({ client: c, brokerUrl: member.brokerUrl });
  await c.connect();
  return c;
}

/** Closes the test clients (only those of the broker at `brokerUrl`, when given). */
export function closeClients(brokerUrl?: string): void {
  for (let i = clients.length - 1; i >= 0; i--) {
    const entry = clients[i];
    if (!entry || (brokerUrl !== undefined && entry.brokerUrl !== brokerUrl)) continue;
    clients.splice(i, 1);
    entry.client.close();
  }
}

export interface RawSocket {
  ws: WebSocket;
  frames: any[];
  /** the broker's challenge for this connection (its first frame, already consumed); "" when it refused the socket */
  challenge: string;
  next(pred?: (f: any) => boolean): Promise<any>;
  closed: Promise<number>;
}

/** Raw WebSocket for protocol-level tests; `next` hands out each received frame once, in order. */
export async function rawSocket(b: Pick<RunningBroker, "wsUrl">): Promise<RawSocket> {
  const ws = new WebSocket(b.wsUrl);
  const frames: any[] = [];
  const consumed = new Set<number>();
  const waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  ws.onmessage = (e) => {
    const f = JSON.parse(String(e.data));
    const idx = frames.push(f) - 1;
    const i = waiters.findIndex((w) => w.pred(f));
    if (i >= 0) {
      consumed.add(idx);
      waiters.splice(i, 1)[0]?.resolve(f);
    }
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("ws error"));
  });
  // every frame before `start` is consumed: a long fuzz run that takes frames in order stays linear
  let start = 0;
  const next = (pred: (f: any) => boolean = () => true): Promise<any> => {
    while (consumed.has(start)) start++;
    for (let idx = start; idx < frames.length; idx++) {
      if (consumed.has(idx) || !pred(frames[idx])) continue;
      consumed.add(idx);
      return Promise.resolve(frames[idx]);
    }
    return new Promise((resolve) => waiters.push({ pred, resolve }));
  };
  // A socket the broker refuses at once (over an address budget) gets an error instead; it stays readable.
  const first = await Promise.race([next(), closed.then(() => null)]);
  if (first?.type === "challenge") return { ws, frames, closed, challenge: first.challenge, next };
  consumed.clear();
  start = 0;
  return { ws, frames, closed, challenge: "", next };
}

/** A signed hello for `member` on a raw socket's challenge; `extra` adds (signed) fields. */
export function helloFrame(member: MeshConfig, challenge: string, extra: Partial<UnsignedHello> = {}, session: KeyPair = generateSigningKeyPair()) {
  return signHello(
    {
      type: "hello",
      challenge,
      meshId: member.meshId,
      memberId: member.memberId,
      pubkey: member.pubkey,
      sessionPubkey: session.publicKey,
      timestamp: Date.now(),
      ...extra,
    },
    member.secretKey,
    session.secretKey,
  );
}
