import type { HTMLBundle, ServerWebSocket } from "bun";
import type { Broker } from "../broker/broker.ts";
import type { Routes } from "../broker/host.ts";
import { errorResponse, json } from "../broker/http.ts";
import type { Connection, Transport } from "../broker/peer.ts";
import { WireError } from "../protocol/wire-error.ts";

type WsData = { conn: Connection | null };

/** A class rather than three closures a socket: one small object per session, its methods shared. */
class SocketTransport implements Transport {
  constructor(private readonly ws: ServerWebSocket<WsData>) {}
  send(data: string): void {
    this.ws.send(data);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  ping(): void {
    this.ws.ping();
  }
}

export interface BunServeOptions {
  hostname: string;
  port: number;
  /** Largest frame / JSON body the broker accepts. */
  maxFrameBytes: number;
  /** Largest file upload (POST /upload streams it and enforces this limit itself, as the bytes arrive). */
  maxUploadBytes: number;
  routes: Routes;
  /** PEM certificate chain and key: serve HTTPS and WSS. */
  tls?: { cert: string; key: string };
  /** Bundled HTML pages (Bun HTML imports), served as they are. */
  pages?: Record<string, HTMLBundle>;
}

/** Maps `Bun.serve` onto the transport-agnostic core: routes to HTTP, `/ws` sockets to `open/message/close/pong`. */
export function serveBun(broker: Broker, opts: BunServeOptions) {
  // Route errors become structured JSON bodies, never a crash or a stack trace.
  const routes = Object.fromEntries(
    Object.entries(opts.routes).map(([path, methods]) => [
      path,
      Object.fromEntries(
        Object.entries(methods).map(([method, fn]) => [
          method,
          async (req: Request & { params: Record<string, string> }) => {
            try {
              return await fn(req);
            } catch (err) {
              return errorResponse(err);
            }
          },
        ]),
      ),
    ]),
  );
  return Bun.serve<WsData>({
    // Production bundling of HTML pages (no HMR client, hashed assets) even when run from source.
    development: false,
    hostname: opts.hostname,
    port: opts.port,
    // Uploads stream up to the file size limit (POST /upload checks it, structured, as the bytes arrive);
    // every other route reads at most its own small cap (readJson) and answers frame_too_large past it.
    // Past this, Bun itself refuses the body before buffering.
    maxRequestBodySize: Math.max(opts.maxFrameBytes * 4, opts.maxUploadBytes + 1024 * 1024),
    ...(opts.tls ? { tls: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
    routes: { ...routes, ...opts.pages },
    fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/ws") {
        if (srv.upgrade(req, { data: { conn: null } })) return undefined;
        return json({ error: { code: "invalid_frame", message: "expected a WebSocket upgrade" } }, 426);
      }
      return errorResponse(new WireError("not_found", `no route for ${req.method} ${url.pathname}`, 404));
    },
    error(err) {
      return errorResponse(err);
    },
    websocket: {
      // Let frames up to 4x the limit through so oversize ones get a structured error rather than a bare close.
      maxPayloadLength: opts.maxFrameBytes * 4,
      idleTimeout: 0,
      sendPings: false,
      open(ws) {
        ws.data.conn = broker.open(new SocketTransport(ws), ws.remoteAddress);
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
