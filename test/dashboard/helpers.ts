import { ProcessBroker } from "../helpers/process-broker.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { LoginTokenResponse } from "../../src/dashboard/api.ts";
import { COOKIE_NAME } from "../../src/dashboard/auth.ts";

/** A one-time login path for `member`, asked for as `claudemesh dashboard` does (member-signed). */
export async function loginPath(member: MeshConfig): Promise<string> {
  return (await brokerRequest(member.brokerUrl, "POST", "/dashboard/tokens", LoginTokenResponse, { body: {}, auth: { kind: "member", mesh: member } })).path;
}

/** Exchanges a login path for the session cookie (`name=value`), or null when the broker refuses it. */
export async function redeem(brokerUrl: string, path: string): Promise<{ cookie: string | null; res: Response }> {
  const res = await fetch(brokerUrl + path, { redirect: "manual" });
  const set = res.headers.get("set-cookie");
  const m = set?.match(new RegExp(`${COOKIE_NAME}=([^;]+)`));
  return { cookie: m ? `${COOKIE_NAME}=${m[1]}` : null, res };
}

export async function login(member: MeshConfig): Promise<string> {
  const { cookie } = await redeem(member.brokerUrl, await loginPath(member));
  if (!cookie) throw new Error("login refused");
  return cookie;
}

export function dashFetch(brokerUrl: string, cookie: string | null, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (cookie) headers.set("cookie", cookie);
  return fetch(brokerUrl + path, { redirect: "manual", ...init, headers });
}

export async function dashJson<T = any>(brokerUrl: string, cookie: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await dashFetch(brokerUrl, cookie, path, init);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Reads a dashboard SSE stream; `next(pred)` resolves with the first activity event (in order) matching it. */
export async function sse(brokerUrl: string, cookie: string) {
  const ctrl = new AbortController();
  const res = await dashFetch(brokerUrl, cookie, "/dashboard/api/events", { signal: ctrl.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events: HTTP ${res.status}`);
  const events: any[] = [];
  const waiters: { pred: (e: any) => boolean; resolve: (e: any) => void }[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const done = (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buf += value;
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const type = chunk.match(/^event: (.*)$/m)?.[1];
        const data = chunk.match(/^data: (.*)$/m)?.[1];
        if (type === "ready") ready();
        if (type === "activity" && data) {
          const e = JSON.parse(data);
          events.push(e);
          const w = waiters.findIndex((x) => x.pred(e));
          if (w >= 0) waiters.splice(w, 1)[0]?.resolve(e);
        }
      }
    }
  })();
  await isReady;
  return {
    events,
    /** resolves when the server ends the stream */
    done,
    next(pred: (e: any) => boolean): Promise<any> {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    close: () => ctrl.abort(),
  };
}

/**
 * The compiled broker (SQLite) with its request log on, drained as it runs (an unread pipe would block
 * it): `log()` is everything it wrote to stderr so far, for checks that a secret never reached it.
 */
export async function loggedBroker(): Promise<{ pb: ProcessBroker; log(): string }> {
  const pb = new ProcessBroker("sqlite");
  process.env.CLAUDEMESH_LOG_REQUESTS = "1";
  try {
    await pb.start();
  } finally {
    delete process.env.CLAUDEMESH_LOG_REQUESTS;
  }
  let stderr = "";
  void (async () => {
    const reader = (pb.proc as NonNullable<ProcessBroker["proc"]>).stderr.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr += value;
    }
  })();
  return { pb, log: () => stderr };
}
