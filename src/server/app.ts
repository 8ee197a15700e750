import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { S3Config } from "../blob/config.ts";
import { s3ConfigFromEnv } from "../blob/config.ts";
import { openBlobStore } from "../blob/open.ts";
import type { BlobStore } from "../blob/store.ts";
import { Broker } from "../broker/broker.ts";
import { type BrokerLimits, DEFAULT_LIMITS } from "../broker/config.ts";
import type { FeatureFactory } from "../broker/host.ts";
import { dashboardFeature } from "../dashboard/feature.ts";
import type { DashboardOptions } from "../dashboard/http.ts";
import { dashboardPage } from "../dashboard/page.ts";
import { DEFAULT_FILES_LIMITS, type FilesLimits } from "../files/config.ts";
import { filesFeature } from "../files/feature.ts";
import { groupsFeature } from "../groups/feature.ts";
import { memoryFeature } from "../memory/feature.ts";
import { ADMIN_TOKEN_FILE, ensureDefaultMesh, loadAdminToken, type QuickStart, quickStartRootKey } from "../meshes/bootstrap.ts";
import { meshesFeature } from "../meshes/feature.ts";
import { MeshRepo } from "../meshes/repo.ts";
import { messagingFeature } from "../messaging/feature.ts";
import { DEFAULT_NODE_TIMING, type NodeSelf, type NodeTiming } from "../nodes/directory.ts";
import { nodesFeature } from "../nodes/feature.ts";
import { resolveNodeId } from "../nodes/node-id.ts";
import { metricsFeature, metricsResponse } from "../metrics/feature.ts";
import { PromMetrics } from "../metrics/registry.ts";
import { presenceFeature } from "../presence/feature.ts";
import { stateFeature } from "../state/feature.ts";
import { openStore, type Store } from "../store/db.ts";
import { migrate } from "../store/migrate.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { InvalidArgument } from "../util/errors.ts";
import { ensurePrivateDir } from "../util/fs.ts";
import { log } from "../util/log.ts";
import { VERSION } from "../version.ts";
import { serveBun } from "./bun.ts";

export interface BrokerOptions {
  host?: string;
  port?: number;
  dataDir?: string;
  databaseUrl?: string;
  /** Postgres schema (tests give each broker its own). */
  dbSchema?: string;
  /** Base URL printed in invites; defaults to http://host:port. */
  publicUrl?: string;
  limits?: Partial<BrokerLimits>;
  /** PEM files: serve HTTPS/WSS with Bun's own TLS; invite URLs then say https://. */
  tls?: { certFile: string; keyFile: string };
  /** Time as the features see it (tests move it instead of sleeping). */
  clock?: Clock;
  /** S3-compatible file storage; undefined reads S3_* / MINIO_* from the environment, null is local disk. */
  s3?: S3Config | null;
  /** `--max-file-size`, `--mesh-storage-quota` and the files' lifetimes. */
  files?: Partial<FilesLimits>;
  /** The files' own clock, so a test can age attachments by a day without expiring its sessions. */
  filesClock?: Clock;
  /** `--admin-token-file`: where the admin token is kept (default `<data-dir>/admin-token`); the nodes of
   * one Postgres share one file's token. */
  adminTokenFile?: string;
  /** `--node-id`: this broker's node id (default: the one kept in the data dir, or a new one). */
  nodeId?: string;
  /** heartbeat and dead-node delays (tests shorten them) */
  nodeTiming?: Partial<NodeTiming>;
  /** Log dashboard requests (method and path, secrets cut out) to stderr. */
  logRequests?: boolean;
  /** `--metrics-host`: also serve GET /metrics, without the admin token, on this separate listener. */
  metricsListen?: { host: string; port: number };
}

export interface RunningBroker {
  /** the public base URL (invites, clients) */
  url: string;
  /** where this process is bound: differs from `url` behind a proxy or with --public-url */
  listenUrl: string;
  wsUrl: string;
  port: number;
  dataDir: string;
  adminToken: string;
  /** where the admin token is kept */
  adminTokenFile: string;
  /** true when this start created the admin token (print it once). */
  adminTokenCreated: boolean;
  /** The quick-start mesh `default` (null when this store began with another mesh) and its invite. */
  quickStart: QuickStart | null;
  broker: Broker;
  store: Store;
  /** this process as a broker node of its store */
  node: NodeSelf;
  /** the `--metrics-host` listener's URL, when there is one */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export const defaultDataDir = () => join(homedir(), ".claudemesh", "broker");

interface Wiring {
  adminToken: string;
  dataDir: string;
  blob: BlobStore;
  files: FilesLimits;
  filesClock: Clock | undefined;
  nodeId: string;
  nodes: FeatureFactory;
  dashboard: DashboardOptions;
  metrics: PromMetrics;
}

/**
 * Every broker feature, in the order their lifecycle hooks run: nodes first (it refuses to start a second
 * broker on one SQLite file before anything touches the store), then meshes (it records presence).
 */
function features(w: Wiring): FeatureFactory[] {
  return [
    w.nodes,
    meshesFeature({ adminToken: w.adminToken, quickStartRootKey: (meshId) => quickStartRootKey(w.dataDir, meshId), nodeId: w.nodeId }),
    presenceFeature,
    groupsFeature,
    messagingFeature,
    stateFeature,
    memoryFeature,
    filesFeature({ dataDir: w.dataDir, blob: w.blob, limits: w.files, ...(w.filesClock ? { clock: w.filesClock } : {}) }),
    dashboardFeature(w.dashboard),
    metricsFeature(w.metrics),
  ];
}

/** The composition root: picks the backends, lists the features, collects their migrations and routes. */
export async function startBroker(opts: BrokerOptions = {}): Promise<RunningBroker> {
  const host = opts.host ?? "127.0.0.1";
  const dataDir = opts.dataDir ?? defaultDataDir();
  ensurePrivateDir(dataDir);
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const adminTokenFile = opts.adminTokenFile ?? join(dataDir, ADMIN_TOKEN_FILE);
  const { token: adminToken, created: adminTokenCreated, save: saveAdminToken } = loadAdminToken(adminTokenFile);
  const store = await openStore({ databaseUrl: opts.databaseUrl, schema: opts.dbSchema, dataDir });
  const clock = opts.clock ?? systemClock;
  const files: FilesLimits = { ...DEFAULT_FILES_LIMITS, ...opts.files };
  const page = dashboardPage();
  // The dashboard serves its page from this server, whose URL exists only once it listens.
  let selfUrl = "";
  const dashboard: DashboardOptions = { pageMount: page.mount, selfUrl: () => selfUrl, publicUrl: opts.publicUrl, logRequests: opts.logRequests };
  const metrics = new PromMetrics();
  let broker: Broker;
  let node: NodeSelf;
  let nodes: ReturnType<typeof nodesFeature>;
  try {
    node = { id: resolveNodeId(dataDir, opts.nodeId), url: opts.publicUrl?.replace(/\/+$/, "") ?? "" };
    nodes = nodesFeature({ self: node, timing: { ...DEFAULT_NODE_TIMING, ...opts.nodeTiming }, version: VERSION });
    // S3 only when configured: its SDK is imported here, lazily, so only a broker ever loads it.
    const blob = await openBlobStore({ dataDir, s3: opts.s3 === undefined ? s3ConfigFromEnv(process.env) : opts.s3 });
    broker = new Broker({
      store,
      limits,
      clock,
      metrics,
      features: features({ adminToken, dataDir, blob, files, filesClock: opts.filesClock, nodeId: node.id, nodes: nodes.feature, dashboard, metrics }),
    });
    await migrate(store, broker.migrations());
    await broker.start();
  } catch (err) {
    await store.close();
    throw err;
  }

  let tls: { cert: string; key: string } | undefined;
  let server: ReturnType<typeof serveBun>;
  try {
    tls = opts.tls ? readTls(opts.tls) : undefined;
    server = serveBun(broker, {
      hostname: host,
      port: opts.port ?? 7900,
      maxFrameBytes: limits.maxFrameBytes,
      maxUploadBytes: files.maxFileBytes,
      routes: broker.routes(),
      tls,
      pages: { [page.mount]: page.bundle },
    });
    selfUrl = server.url.href;
  } catch (err) {
    await broker.stop();
    await store.close();
    if ((err as { code?: string }).code === "EADDRINUSE") {
      throw new InvalidArgument(`port ${opts.port ?? 7900} on ${host} is already in use (another broker?); pick another with --port`);
    }
    throw err;
  }

  let metricsServer: ReturnType<typeof Bun.serve> | undefined;
  if (opts.metricsListen) {
    try {
      metricsServer = Bun.serve({
        hostname: opts.metricsListen.host,
        port: opts.metricsListen.port,
        routes: { "/metrics": { GET: () => metricsResponse(metrics) } },
        fetch: () => new Response("not found", { status: 404 }),
      });
    } catch (err) {
      await broker.stop();
      await server.stop(true);
      await store.close();
      throw new InvalidArgument(`cannot serve metrics on ${opts.metricsListen.host}:${opts.metricsListen.port}: ${(err as Error).message}`);
    }
  }

  const port = server.port ?? 0;
  saveAdminToken();
  const listenUrl = `${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (!tls && !isLoopback(host)) {
    log.warn(
      `listening on ${host} without TLS: messages are end-to-end encrypted, but admin, invite and session tokens and all metadata cross the network in the clear. ` +
        "Serve it with --tls-cert/--tls-key, or behind a TLS reverse proxy on a trusted network (README: Deploying)",
    );
  }
  const url = opts.publicUrl?.replace(/\/+$/, "") ?? listenUrl;
  node.url = url;
  await nodes.announce();
  const quickStart = await ensureDefaultMesh(new MeshRepo(store, clock), dataDir, url, clock);

  let stopped = false;
  return {
    url,
    listenUrl,
    wsUrl: url.replace(/^http/, "ws") + "/ws",
    port,
    dataDir,
    adminToken,
    adminTokenFile,
    adminTokenCreated,
    quickStart,
    broker,
    store,
    node,
    ...(metricsServer
      ? { metricsUrl: `http://${opts.metricsListen?.host.includes(":") ? `[${opts.metricsListen.host}]` : opts.metricsListen?.host}:${metricsServer.port}` }
      : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stop listening first: the sessions closed below reconnect at once, and a broker still accepting
      // would admit them again while it shuts down (a restart under 3,000 sessions took 8–20 s that way).
      const listening = server.stop();
      await broker.stop();
      await metricsServer?.stop(true);
      await server.stop(true);
      await listening;
      await store.close();
    },
  };
}

function readTls(files: { certFile: string; keyFile: string }): { cert: string; key: string } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new InvalidArgument(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  return { cert: read(files.certFile, "certificate"), key: read(files.keyFile, "key") };
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can reach the socket. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
