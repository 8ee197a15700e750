/**
 * Reconnect-storm clients, in a process of their own: `bun storm-proc.ts '<json>'` with { brokerUrl,
 * member, count, prefix }. For the broker these are the product's own `BrokerClient`s (its reconnect
 * loop, backoff and busy handling are what is measured), all sessions of one member; for the relay
 * (`member: null`) a raw socket that reconnects with the same backoff, so the baseline shows what the
 * backoff alone costs. Prints one JSON line when all are connected, then one each time all are
 * connected again after a drop: when, and how the way back went.
 */
import { BrokerClient, RECONNECT_BACKOFF } from "../../../src/client/broker-client.ts";
import { WireError } from "../../../src/protocol/wire-error.ts";
import { retry } from "../../../src/util/retry.ts";
import { fastKeyPair, type Member } from "./client.ts";

interface Args {
  brokerUrl: string;
  member: Member | null;
  count: number;
  prefix: string;
}
const args = JSON.parse(process.argv[2] ?? "{}") as Args;
const say = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

interface Reconnecting {
  connect(): Promise<unknown>;
  close(): void;
}

let connected = 0;
let ready = false;
let busy = 0;
let rateLimited = 0;
/** when each session came back, for the spread of the way back */
let backAt: number[] = [];
const up = (reconnect: boolean) => {
  connected++;
  if (reconnect) backAt.push(Date.now());
  if (ready && connected === args.count) {
    const sorted = backAt.sort((a, b) => a - b);
    say({ allBack: Date.now(), first: sorted[0], p50: sorted[Math.floor(sorted.length / 2)], busy, rateLimited });
    backAt = [];
    busy = 0;
    rateLimited = 0;
  }
};
const down = () => void connected--;

/** The relay's client: one hello frame, then the same reconnect loop shape as BrokerClient's. */
function rawClient(url: string, name: string): Reconnecting {
  let closed = false;
  let ever = false;
  const wsUrl = `${url.replace(/^http/, "ws")}/ws`;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      let settled = false;
      ws.onopen = () => ws.send(JSON.stringify({ type: "hello", name, id: "h" }));
      ws.onmessage = () => {
        if (settled) return;
        settled = true;
        const reconnect = ever;
        ever = true;
        up(reconnect);
        resolve();
      };
      ws.onclose = () => {
        if (!settled) {
          settled = true;
          return reject(new Error("closed"));
        }
        down();
        if (!closed)
          void retry(open, { baseMs: RECONNECT_BACKOFF.minMs, capMs: RECONNECT_BACKOFF.maxMs, delayFirst: {}, retryable: () => !closed }).catch(() => {});
      };
    });
  return { connect: open, close: () => void (closed = true) };
}

function brokerClient(member: Member, name: string): Reconnecting {
  const c = new BrokerClient({ mesh: { ...member, brokerUrl: args.brokerUrl }, session: fastKeyPair(), displayName: name });
  c.on("connected", (_ack, reconnect) => up(reconnect));
  c.on("disconnected", down);
  c.on("retrying", (err) => {
    if (err.code === "busy") busy++;
    else if (err.code === "rate_limited") rateLimited++;
  });
  return c;
}

const clients = Array.from({ length: args.count }, (_, i) =>
  args.member ? brokerClient(args.member, `${args.prefix}${i}`) : rawClient(args.brokerUrl, `${args.prefix}${i}`),
);
const refusedForNow = (err: unknown) => err instanceof WireError && (err.code === "busy" || err.code === "rate_limited");

// The first connects, 50 at a time, retried on busy the way `claudemesh mcp` retries its first connect.
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (next < clients.length) {
      const c = clients[next++] as Reconnecting;
      await retry(() => c.connect(), {
        baseMs: 50,
        capMs: 1_000,
        retryable: refusedForNow,
        retryAfterMs: (err) => (err instanceof WireError ? err.retryAfterMs : undefined),
      });
    }
  }),
);
ready = true;
say({ ready: true, connected });

process.once("SIGTERM", () => {
  for (const c of clients) c.close();
  process.exit(0);
});
