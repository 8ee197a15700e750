import { homedir } from "node:os";
import { join } from "node:path";
import { meshRoutes } from "../meshes/http.ts";
import { openStore, type Store } from "../store/db.ts";
import { AppError } from "../util/errors.ts";
import { ensurePrivateDir } from "../util/fs.ts";
import { VERSION } from "../version.ts";
import { ensureDefaultMesh, loadAdminToken } from "./bootstrap.ts";
import { Broker } from "./broker.ts";
import { type BrokerLimits, DEFAULT_LIMITS } from "./config.ts";
import { FEATURES } from "./features.ts";
import { errorResponse, json, sessionGrant } from "./http.ts";
import type { Connection } from "./peer.ts";

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
}

export interface RunningBroker {
  url: string;
  wsUrl: string;
  port: number;
  dataDir: string;
  adminToken: string;
  /** true when this start created the admin token (print it once). */
  adminTokenCreated: boolean;
  /** Invite URL of the quick-start mesh, while it is usable. */
  defaultInviteUrl: string | null;
  broker: Broker;
  store: Store;
  stop(): Promise<void>;
}

export const defaultDataDir = () => join(homedir(), ".claudemesh", "broker");

type WsData = { conn: Connection | null };

export async function startBroker(opts: BrokerOptions = {}): Promise<RunningBroker> {
  const host = opts.host ?? "127.0.0.1";
  const dataDir = opts.dataDir ?? defaultDataDir();
  ensurePrivateDir(dataDir);
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const store = await openStore({ databaseUrl: opts.databaseUrl, schema: opts.dbSchema, dataDir });
  const broker = new Broker(store, limits, FEATURES);
  await broker.repo.closeAllPresence();
  const { token: adminToken, created: adminTokenCreated } = loadAdminToken(dataDir);

  const wrap =
    <A extends unknown[]>(fn: (...a: A) => Promise<Response> | Response) =>
    async (...a: A): Promise<Response> => {
      try {
        return await fn(...a);
      } catch (err) {
        return errorResponse(err);
      }
    };
  const routes: Record<string, Record<string, (req: Request & { params: Record<string, string> }) => Promise<Response>>> = {};
  for (const [path, methods] of Object.entries(meshRoutes(broker, adminToken))) {
    routes[path] = Object.fromEntries(Object.entries(methods).map(([m, fn]) => [m, wrap(fn as never)]));
  }

  let server: ReturnType<typeof Bun.serve<WsData>>;
  try {
    server = serve();
  } catch (err) {
    await broker.stop();
    await store.close();
    if ((err as { code?: string }).code === "EADDRINUSE") {
      throw new AppError("invalid_argument", `port ${opts.port ?? 7900} on ${host} is already in use (another broker?); pick another with --port`);
    }
    throw err;
  }

  function serve() {
    return Bun.serve<WsData>({
      hostname: host,
      port: opts.port ?? 7900,
      // Admin and join bodies are tiny: past 4x the limit Bun refuses them before buffering; between 1x and
      // 4x our handlers answer with a structured frame_too_large.
      maxRequestBodySize: limits.maxFrameBytes * 4,
      routes: {
        ...routes,
        "/healthz": () => json({ ok: true, version: VERSION, time: Date.now() }),
        // The session bearer token from hello_ack, checked: the base for HTTP routes of live sessions.
        "/session": (req: Request) => {
          const grant = sessionGrant(req, broker);
          if (!grant) return errorResponse(new AppError("unauthorized", "a valid session bearer token (from hello_ack) is required", 401));
          return json({ meshId: grant.meshId, memberId: grant.memberId, presenceId: grant.presenceId, sessionPubkey: grant.sessionPubkey, expiresAt: grant.expiresAt });
        },
      },
      fetch(req, srv) {
        const url = new URL(req.url);
        if (url.pathname === "/ws") {
          if (srv.upgrade(req, { data: { conn: null } })) return undefined;
          return json({ error: { code: "invalid_frame", message: "expected a WebSocket upgrade" } }, 426);
        }
        return errorResponse(new AppError("not_found", `no route for ${req.method} ${url.pathname}`, 404));
      },
      error(err) {
        return errorResponse(err);
      },
      websocket: {
        // Let frames up to 4x the limit through so oversize ones get a structured error rather than a bare close.
        maxPayloadLength: limits.maxFrameBytes * 4,
        idleTimeout: 0,
        sendPings: false,
        open(ws) {
          ws.data.conn = broker.open(
            {
              send: (d) => void ws.send(d),
              close: (code, reason) => ws.close(code, reason),
              ping: () => void ws.ping(),
            },
            ws.remoteAddress,
          );
        },
        message(ws, msg) {
          if (ws.data.conn) void broker.message(ws.data.conn, msg);
        },
        pong(ws) {
          if (ws.data.conn) broker.pong(ws.data.conn);
        },
        close(ws) {
          if (ws.data.conn) void broker.close(ws.data.conn);
        },
      },
    });
  }

  const port = server.port ?? 0;
  const url = opts.publicUrl ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const defaultInviteUrl = await ensureDefaultMesh(broker.repo, dataDir, url);
  broker.start();

  let stopped = false;
  return {
    url,
    wsUrl: url.replace(/^http/, "ws") + "/ws",
    port,
    dataDir,
    adminToken,
    adminTokenCreated,
    defaultInviteUrl,
    broker,
    store,
    async stop() {
      if (stopped) return;
      stopped = true;
      await broker.stop();
      await server.stop(true);
      await store.close();
    },
  };
}
