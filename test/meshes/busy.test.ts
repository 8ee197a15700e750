import { describe, expect, test } from "bun:test";
import type { BrokerClient } from "../../src/client/broker-client.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { HINT_JITTER, retry } from "../../src/util/retry.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, connect, createMesh, helloFrame, startTestBroker } from "../helpers/broker.ts";
import { recordingTransport } from "../helpers/in-process.ts";

describe.each(backends())("a node saturated with hellos answers busy on %s", (backend) => {
  test("past the node's budget a valid hello is answered busy with a retry hint and a close, and changes nothing", async () => {
    await using b = await startTestBroker(backend, { maxPendingHellos: 2 });
    const m = await addMember(b, await createMesh(b, "busy"), "Crowd");
    // ten hellos handed to the broker in one turn, all in flight together
    const tries = Array.from({ length: 10 }, () => {
      const t = recordingTransport();
      const conn = b.broker.open(t);
      const hello = helloFrame(m, t.frames[0]?.challenge as string, { id: "h", displayName: m.displayName });
      return { t, done: b.broker.message(conn, JSON.stringify(hello)) };
    });
    await Promise.all(tries.map((x) => x.done));
    const answers = tries.map((x) => x.t.frames.at(-1));
    expect(answers.filter((a) => a.type === "hello_ack")).toHaveLength(2);
    const busy = answers.filter((a) => a.type === "error");
    expect(busy).toHaveLength(8);
    for (const a of busy) expect(a).toMatchObject({ code: "busy", id: "h" });
    // each refused hello gets the next slot: later refusals come back later
    const hints = busy.map((a) => a.retryAfterMs as number);
    for (const h of hints) expect(h).toBeGreaterThan(0);
    expect([...hints].sort((x, y) => x - y)).toEqual(hints);
    expect(tries.filter((x) => x.t.closedWith() === 4029)).toHaveLength(8);
    // the refused registered nothing
    expect(b.broker.sessionCount()).toBe(2);
  });

  test("a reconnect storm: busy sessions wait the hint on their own timers, never a blind backoff, and all get back", async () => {
    await using b = await startTestBroker(backend, { maxPendingHellos: 1, helloRatePerMember: 10_000 });
    const mesh = await createMesh(b, "storm");
    const m = await addMember(b, mesh, "Herd");
    const N = 40;
    // each client on its own ManualClock: its waits are recorded and pass at once, so the storm takes no real sleeping
    const clients: { c: BrokerClient; log: ({ hint: number } | { sleep: number })[] }[] = [];
    for (let i = 0; i < N; i++) {
      const clock = new ManualClock();
      const log: ({ hint: number } | { sleep: number })[] = [];
      // a backoff this big would show: a client that slept it instead of the hint would wait seconds
      // even connecting one by one can meet the gate of one (the last hello's tail is still in flight): the
      // first connect is retried on busy the way `claudemesh mcp` retries it
      const c = await retry(() => connect(m, { displayName: `herd-${i}`, timers: clock, backoff: { minMs: 1, maxMs: 1 } }), {
        baseMs: 1,
        capMs: 1,
        retryable: (err) => err instanceof WireError && err.code === "busy",
        retryAfterMs: (err) => (err instanceof WireError ? err.retryAfterMs : undefined),
      });
      c.on("retrying", (err: WireError) => void (err.code === "busy" && log.push({ hint: err.retryAfterMs ?? -1 })));
      void (async () => {
        for (;;) {
          const ms = await clock.nextSleep();
          log.push({ sleep: ms });
          clock.advance(ms);
        }
      })();
      clients.push({ c, log });
    }
    const back = clients.map(({ c }) => c.once("connected"));
    for (const { c } of clients) c.dropConnection();
    await Promise.all(back);
    expect(clients.every(({ c }) => c.connected)).toBe(true);
    expect(b.broker.sessionCount()).toBe(N);
    const hinted = clients.flatMap(({ log }) => log.flatMap((e, i) => ("hint" in e ? [[e.hint, log[i + 1]] as const] : [])));
    // forty reconnects at once through a gate of one: the broker answered busy
    expect(hinted.length).toBeGreaterThan(0);
    for (const [h, next] of hinted) {
      expect(h).toBeGreaterThan(0);
      // the very next wait is the hint, plus at most its jitter
      expect(next).toBeDefined();
      const slept = (next as { sleep: number }).sleep;
      expect(slept).toBeGreaterThanOrEqual(h);
      expect(slept).toBeLessThanOrEqual(Math.ceil(h * (1 + HINT_JITTER)));
    }
  });
});
