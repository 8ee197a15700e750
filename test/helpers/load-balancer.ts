import type { ServerWebSocket } from "bun";

interface Link {
  upstream: WebSocket;
  client: ServerWebSocket<Link> | null;
  /** frames the node sent before the client's side was open */
  early: (string | Buffer)[];
  /** frames the client sent before the node's side was open */
  waiting: (string | Buffer)[];
  closed: { code: number; reason: string } | null;
}

/**
 * A load balancer in front of broker nodes, as a team would put one: one URL, and each new connection
 * (an HTTP request or a WebSocket) goes to the first node whose /healthz answers. No session affinity.
 */
export function loadBalancer(nodes: readonly string[]) {
  const pick = async (): Promise<string | null> => {
    for (const n of nodes) {
      // a fresh connection per check: a pooled one to a node killed since would hang until the timeout
      const ok = await fetch(`${n}/healthz`, { signal: AbortSignal.timeout(1000), keepalive: false }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return n;
    }
    return null;
  };
  const server = Bun.serve<Link>({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req, srv) {
      const node = await pick();
      if (!node) return new Response("no node answers", { status: 502 });
      const url = new URL(req.url);
      if (url.pathname !== "/ws") return fetch(node + url.pathname + url.search, { method: req.method, headers: req.headers, body: req.body });
      const link: Link = { upstream: new WebSocket(`${node.replace(/^http/, "ws")}/ws`), client: null, early: [], waiting: [], closed: null };
      link.upstream.onmessage = (e) => (link.client ? link.client.send(e.data as string) : link.early.push(e.data as string));
      link.upstream.onopen = () => {
        for (const m of link.waiting.splice(0)) link.upstream.send(m);
      };
      // a node that died drops its connections: so does the balancer, and the client comes back through it
      link.upstream.onclose = (e) => {
        link.closed = { code: e.code === 1005 || e.code === 1006 ? 1011 : e.code, reason: e.reason };
        link.client?.close(link.closed.code, link.closed.reason);
      };
      return srv.upgrade(req, { data: link }) ? undefined : new Response("upgrade failed", { status: 400 });
    },
    websocket: {
      open(ws) {
        ws.data.client = ws;
        for (const m of ws.data.early.splice(0)) ws.send(m);
        if (ws.data.closed) ws.close(ws.data.closed.code, ws.data.closed.reason);
      },
      message(ws, m) {
        if (ws.data.upstream.readyState === WebSocket.OPEN) ws.data.upstream.send(m);
        else ws.data.waiting.push(m);
      },
      close(ws) {
        ws.data.upstream.close();
      },
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, [Symbol.asyncDispose]: () => server.stop(true) };
}
