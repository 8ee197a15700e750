/**
 * The baseline: a raw Bun.serve WebSocket relay doing no work beyond routing (no auth, no store, no
 * schema). A socket names itself with its first frame; `{"to": name}` goes to that socket, `"*"` to all
 * others. It answers the same connect → ready → send → push → receipt exchange as the broker, so the
 * two runs differ only by what claudemesh does.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { installMemoryProbe } from "./memory-probe.ts";

type Data = { name: string | null };
const sockets = new Map<string, Bun.ServerWebSocket<Data>>();
// The broker's event-loop lag comes from prom-client, which samples the same way (a 10 ms timer): the
// relay's, in the same run, is what the machine alone (two cores shared with the clients) puts there.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const server = Bun.serve<Data>({
  // a restart (the reconnect storm's baseline) comes back on the port it had
  port: Number(process.env.BENCH_PORT ?? 0),
  hostname: "127.0.0.1",
  fetch(req, srv) {
    const path = new URL(req.url).pathname;
    if (path === "/count") return new Response(String(sockets.size));
    if (path === "/lag") {
      // in seconds and reset at each read, as the broker's /metrics gives them
      const out = { p99: lag.percentile(99) / 1e9, max: lag.max / 1e9 };
      lag.reset();
      return Response.json(out);
    }
    return srv.upgrade(req, { data: { name: null } }) ? undefined : new Response("ws only", { status: 426 });
  },
  websocket: {
    message(ws, raw) {
      const f = JSON.parse(String(raw)) as {
        type: string;
        name?: string;
        to?: string;
        id?: string;
        envelopes?: { nonce: string; ciphertext: string }[];
        group?: { nonce: string; ciphertext: string };
      };
      if (f.type === "hello" && f.name) {
        ws.data.name = f.name;
        sockets.set(f.name, ws);
        ws.send(JSON.stringify({ type: "hello_ack", id: f.id }));
      } else if (f.type === "send") {
        // the push a recipient gets, shaped like the broker's: one envelope, the sender's name, the id
        const env = f.group ?? f.envelopes?.[0];
        const text = JSON.stringify({ type: "push", messageId: f.id, senderName: ws.data.name, to: f.to, nonce: env?.nonce, ciphertext: env?.ciphertext });
        if (f.to === "*") {
          for (const s of sockets.values()) if (s !== ws) s.send(text);
        } else sockets.get(f.to ?? "")?.send(text);
        ws.send(JSON.stringify({ type: "ack", id: f.id }));
      }
      // receipts are read and dropped
    },
    close(ws) {
      if (ws.data.name && sockets.get(ws.data.name) === ws) sockets.delete(ws.data.name);
    },
  },
});
installMemoryProbe();
console.log(JSON.stringify({ wsUrl: `ws://127.0.0.1:${server.port}/ws`, url: `http://127.0.0.1:${server.port}`, pid: process.pid }));
process.once("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
