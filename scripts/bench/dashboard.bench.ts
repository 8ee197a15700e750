/**
 * Dashboard liveness: the time from a peer's `set_state` to the new value in the dashboard page's DOM
 * (headless chromium, logged in like a person, State view open). Baselines in the same run, for the
 * same writes: the `mesh.activity` event's arrival at a plain SSE reader (the dashboard's stream without
 * a browser), and the `state_change` push at another peer (what the broker does for every write anyway).
 * The page stamps the moment its MutationObserver sees the value; both processes read the same wall
 * clock (`performance.timeOrigin + performance.now()`), so the figures share one time base.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { BrokerClient } from "../../src/client/broker-client.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { LoginTokenResponse } from "../../src/dashboard/api.ts";
import { addBenchMember, createBenchMesh, percentiles, startBenchBroker } from "./harness.ts";

const ROUNDS = Number(process.env.BENCH_DASHBOARD_ROUNDS ?? 200);
const CHROMIUM = process.env.CLAUDEMESH_CHROMIUM ?? "/usr/bin/chromium";
const KEY = "bench";
const now = () => performance.timeOrigin + performance.now();

/** A plain reader of the dashboard's event stream: calls `onState(round, at)` per state_changed event. */
async function sseReader(url: string, cookie: string, onState: (round: number, at: number) => void): Promise<() => void> {
  const ctrl = new AbortController();
  const res = await fetch(`${url}/dashboard/api/events`, { headers: { cookie }, signal: ctrl.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events: HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  void (async () => {
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buf += value;
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (chunk.startsWith("event: ready")) ready();
        const data = chunk.startsWith("event: activity") ? chunk.match(/^data: (.*)$/m)?.[1] : undefined;
        if (!data) continue;
        const e = JSON.parse(data) as { type: string; entry?: { key: string; value: { round?: number } } };
        if (e.type === "state_changed" && e.entry?.key === KEY && typeof e.entry.value.round === "number") onState(e.entry.value.round, now());
      }
    }
  })();
  await isReady;
  return () => ctrl.abort();
}

/** A one-time login path, as `claudemesh dashboard` asks for it (member-signed). */
async function loginPath(member: MeshConfig): Promise<string> {
  return (await brokerRequest(member.brokerUrl, "POST", "/dashboard/tokens", LoginTokenResponse, { body: {}, auth: { kind: "member", mesh: member } })).path;
}

async function cookieFor(member: MeshConfig): Promise<string> {
  const res = await fetch(member.brokerUrl + (await loginPath(member)), { redirect: "manual" });
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error("dashboard login refused");
  return cookie;
}

async function benchOne(label: string, context: BrowserContext, databaseUrl?: string): Promise<void> {
  const { broker: b, stop } = await startBenchBroker(databaseUrl, { frameRatePerSec: 1e6 });
  const clients: BrokerClient[] = [];
  let closeSse = () => {};
  const page = await context.newPage();
  try {
    const mesh = await createBenchMesh(b, "dashbench", "owner");
    const writer = await addBenchMember(b, mesh, "writer");
    const watcher = await addBenchMember(b, mesh, "watcher");
    const connect = async (m: MeshConfig) => {
      const c = new BrokerClient({ mesh: m, session: generateSigningKeyPair(), displayName: m.displayName });
      await c.connect();
      clients.push(c);
      return c;
    };
    const w = await connect(writer);
    const peer = await connect(watcher);

    const arrivals = { page: new Map<number, number>(), sse: new Map<number, number>(), peer: new Map<number, number>() };
    const waiters = new Map<string, () => void>();
    const arrived = (kind: keyof typeof arrivals, round: number, at: number) => {
      arrivals[kind].set(round, at);
      waiters.get(`${kind}:${round}`)?.();
    };
    const wait = (kind: keyof typeof arrivals, round: number) =>
      arrivals[kind].has(round) ? Promise.resolve() : new Promise<void>((r) => waiters.set(`${kind}:${round}`, r));
    peer.on("frame", (f) => {
      if (f.type === "state_change" && f.key === KEY) arrived("peer", (f.value as { round: number }).round, now());
    });
    closeSse = await sseReader(b.url, await cookieFor(mesh.owner), (r, at) => arrived("sse", r, at));

    // The browser logs in with a one-time link, as `claudemesh dashboard` prints it.
    await page.exposeFunction("benchArrived", (round: number, at: number) => arrived("page", round, at));
    await page.goto(b.url + (await loginPath(mesh.owner)));
    await page.waitForURL(`${b.url}/dashboard`);
    await page.getByRole("link", { name: "State", exact: true }).click();
    await page.locator("#live.on").waitFor();
    await page.evaluate((key) => {
      let last = -1;
      new MutationObserver(() => {
        const text = document.querySelector(`[data-key="${key}"] pre`)?.textContent;
        const round = text ? (JSON.parse(text) as { round: number }).round : -1;
        if (round !== last) {
          last = round;
          (window as unknown as { benchArrived(r: number, at: number): void }).benchArrived(round, performance.timeOrigin + performance.now());
        }
      }).observe(document.getElementById("main") as HTMLElement, { childList: true, subtree: true, characterData: true });
    }, KEY);

    const sent = new Map<number, number>();
    // a few writes first: the page's JIT, the statements' caches and the sockets warm up
    for (let round = -20; round < ROUNDS; round++) {
      const done = Promise.all([wait("page", round), wait("sse", round), wait("peer", round)]);
      sent.set(round, now());
      await w.request({ type: "set_state", key: KEY, value: { round } }, "state_result");
      await done;
    }
    const lat = (kind: keyof typeof arrivals) => [...Array(ROUNDS).keys()].map((r) => (arrivals[kind].get(r) ?? NaN) - (sent.get(r) ?? NaN));
    console.log(`  ${label} set_state → value in the page's DOM        ${percentiles(lat("page"), [6, 6])}`);
    console.log(`  ${label} baseline: → event at a plain SSE reader    ${percentiles(lat("sse"), [6, 6])}`);
    console.log(`  ${label} baseline: → state_change push at a peer    ${percentiles(lat("peer"), [6, 6])}`);
  } finally {
    closeSse();
    await page.close();
    for (const c of clients) c.close();
    await stop();
  }
}

export async function run(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    console.log(`  skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set CLAUDEMESH_CHROMIUM)`);
    return;
  }
  console.log(`dashboard: ${ROUNDS} set_state writes, one at a time, each awaited in the page, an SSE reader and a peer`);
  const profile = mkdtempSync(join(tmpdir(), "cm-bench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    await benchOne("sqlite  ", context);
    const pg = process.env.CLAUDEMESH_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
    if (pg) await benchOne("postgres", context, pg);
    else console.log("  postgres skipped (set CLAUDEMESH_TEST_DATABASE_URL)");
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

if (import.meta.main) await run();
