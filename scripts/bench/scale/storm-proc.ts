/**
 * Reconnect-storm clients, in a process of their own: `bun storm-proc.ts '<json>'` with { brokerUrl,
 * member, count, prefix }. These are the product's own `BrokerClient`s (its reconnect loop, backoff and
 * busy handling are what is measured), all sessions of one member. Prints one JSON line when all are
 * connected, then one each time all are connected again after a drop: when, and how the way back went.
 */
import { BrokerClient } from "../../../src/client/broker-client.ts";
import { WireError } from "../../../src/protocol/wire-error.ts";
import { retry } from "../../../src/util/retry.ts";
import { fastKeyPair, type Member } from "./client.ts";

interface Args {
  brokerUrl: string;
  member: Member;
  count: number;
  prefix: string;
}
const args = JSON.parse(process.argv[2] ?? "{}") as Args;
const say = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

let connected = 0;
let ready = false;
let busy = 0;
let rateLimited = 0;
/** when each session came back, for the spread of the way back */
let backAt: number[] = [];
const clients: BrokerClient[] = [];
const busyHello = (err: unknown) => err instanceof WireError && (err.code === "busy" || err.code === "rate_limited");

for (let i = 0; i < args.count; i++) {
  const c = new BrokerClient({ mesh: { ...args.member, brokerUrl: args.brokerUrl }, session: fastKeyPair(), displayName: `${args.prefix}${i}` });
  c.on("connected", (_ack, reconnect) => {
    connected++;
    if (reconnect) backAt.push(Date.now());
    if (ready && connected === args.count) {
      const sorted = backAt.sort((a, b) => a - b);
      say({ allBack: Date.now(), p50: sorted[Math.floor(sorted.length / 2)], busy, rateLimited });
      backAt = [];
      busy = 0;
      rateLimited = 0;
    }
  });
  c.on("disconnected", () => void connected--);
  c.on("retrying", (err) => {
    if (err.code === "busy") busy++;
    else if (err.code === "rate_limited") rateLimited++;
  });
  clients.push(c);
}

// The first connects, 50 at a time, retried on busy the way `claudemesh mcp` retries its first connect.
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (next < clients.length) {
      const c = clients[next++] as BrokerClient;
      await retry(() => c.connect(), {
        baseMs: 50,
        capMs: 1_000,
        retryable: busyHello,
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
