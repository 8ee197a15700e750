import type { FeatureHost, MeshViews, RouteHandler, Viewer, RouteRequest, Routes } from "../broker/host.ts";
import type { PeerState } from "../broker/peer.ts";
import { json, readJson } from "../broker/http.ts";
import type { DashPeer } from "../protocol/activity.ts";
import { UploadQuery } from "../files/api.ts";
import { describeIssues } from "../protocol/codec.ts";
import { WireError } from "../protocol/wire-error.ts";
import type { ActivityHub } from "./activity.ts";
import { MemoryQuery } from "./api.ts";
import { COOKIE_NAME, type DashboardAuth, type DashIdentity, LOGIN_TOKEN_TTL_MS } from "./auth.ts";
import { messagePage } from "./pages.ts";

type Req = RouteRequest;
type Route = RouteHandler;

/** Idle SSE streams get a comment this often, well inside Bun's 10 s idle timeout and any proxy's. */
const SSE_HEARTBEAT_MS = 5_000;

/** A dashboard upload is a file shared with the whole mesh: `POST /upload`'s query without `to`. */
const ShareQuery = UploadQuery.omit({ to: true });

const unauthorized = () => new WireError("unauthorized", "not logged in to the dashboard: run `claudemesh dashboard`", 401);

function cookieOf(req: Request): string | null {
  return new Bun.CookieMap(req.headers.get("cookie") ?? "").get(COOKIE_NAME);
}

/** The request's path for the request log: login tokens are secrets, so they are cut out. */
function loggedPath(req: Request): string {
  return new URL(req.url).pathname.replace(/^\/dashboard\/login\/.*/, "/dashboard/login/[token]");
}

export interface DashboardOptions {
  /** Where the composition root mounted the page bundle (see page.ts). */
  pageMount: string;
  /** This server's own base URL, known once it listens: the page HTML is fetched from there. */
  selfUrl: () => string;
  publicUrl?: string;
  /** Log every dashboard request (method and path, login tokens cut out) to stderr. */
  logRequests?: boolean;
}

export interface DashboardDeps {
  host: FeatureHost;
  hub: ActivityHub;
  auth: DashboardAuth;
  dashPeer(p: PeerState): Promise<DashPeer>;
}

export function dashboardRoutes({ host, hub, auth, dashPeer }: DashboardDeps, opts: DashboardOptions): Routes {
  /** A part of the view that no feature registered is a wiring bug of the composition root. */
  function view<K extends keyof MeshViews>(part: K): MeshViews[K] {
    const v = host.views[part];
    if (!v) throw new Error(`no feature registers the dashboard's ${part}`);
    return v as MeshViews[K];
  }
  const now = () => host.clock.now();
  // The bundled page is mounted at a path only this process knows; /dashboard serves it to logged-in
  // browsers only, and everyone else is redirected to the sign-in page.
  let pageHtml: Promise<string> | null = null;

  const secureCookies = (req: Request) => new URL(req.url).protocol === "https:" || (opts.publicUrl ?? "").startsWith("https:");

  /** The logged-in identity, re-checked against the store so a revoked member's cookie stops working at once. */
  async function identity(req: Request): Promise<DashIdentity | null> {
    const cookie = cookieOf(req);
    const who = auth.session(cookie);
    if (!who) return null;
    const member = (await host.auth.members(who.meshId)).find((m) => m.id === who.memberId);
    if (!member || member.revokedAt !== null || member.meshId !== who.meshId) {
      auth.logout(cookie);
      return null;
    }
    return who;
  }

  async function requireIdentity(req: Request): Promise<DashIdentity> {
    const who = await identity(req);
    if (!who) throw unauthorized();
    return who;
  }

  /** SameSite=Strict already keeps other sites' forms out; a foreign Origin on a write is refused as well. */
  function sameOrigin(req: Request): void {
    const origin = req.headers.get("origin");
    if (origin && origin !== new URL(req.url).origin) throw new WireError("forbidden", "cross-origin dashboard request", 403);
  }

  const logged =
    (fn: Route): Route =>
    (req) => {
      if (opts.logRequests) host.log.info("dashboard request", { method: req.method, path: loggedPath(req) });
      return fn(req);
    };

  async function servePage(req: Req): Promise<Response> {
    if (!(await identity(req))) return Response.redirect("/dashboard/signin", 302);
    // The bundle is static for the life of the process: fetched from ourselves once, then kept.
    pageHtml ??= fetch(new URL(opts.pageMount, opts.selfUrl()), { tls: { rejectUnauthorized: false } } as RequestInit).then((r) => {
      if (!r.ok) throw new Error(`dashboard page bundle answered ${r.status}`);
      return r.text();
    });
    try {
      return new Response(await pageHtml, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
    } catch (err) {
      pageHtml = null;
      throw err;
    }
  }

  function events(req: Req, who: DashIdentity): Response {
    const cookie = cookieOf(req);
    let cleanup = () => {};
    const stream = new ReadableStream<string>({
      start(c) {
        const send = (chunk: string) => {
          try {
            c.enqueue(chunk);
          } catch {
            cleanup();
          }
        };
        const stopListening = hub.listen(who.meshId, (e) => send(`event: activity\ndata: ${JSON.stringify(e)}\n\n`));
        const heartbeat = setInterval(() => {
          // A logout or a revocation ends the stream too, not only new requests.
          if (!auth.session(cookie)) {
            cleanup();
            try {
              c.close();
            } catch {
              // already closed
            }
            return;
          }
          send(": ping\n\n");
        }, SSE_HEARTBEAT_MS);
        cleanup = () => {
          stopListening();
          clearInterval(heartbeat);
        };
        req.signal.addEventListener("abort", () => cleanup());
        send("event: ready\ndata: {}\n\n");
      },
      cancel() {
        cleanup();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" } });
  }

  const viewer = (who: DashIdentity): Viewer => ({ meshId: who.meshId, memberId: who.memberId, name: who.memberName });
  const api = (fn: (req: Req, who: DashIdentity) => Promise<Response> | Response): Route => logged(async (req) => fn(req, await requireIdentity(req)));

  return {
    "/dashboard": { GET: logged(servePage) },
    "/dashboard/*": { GET: logged(servePage) },
    "/dashboard/signin": {
      GET: logged(() =>
        messagePage(200, "Log in to the claudemesh dashboard", [
          "This dashboard opens from your terminal. Run:",
          { code: "claudemesh dashboard" },
          "It prints a one-time login link (valid for 5 minutes) and opens it in your browser.",
        ]),
      ),
    },
    "/dashboard/tokens": {
      POST: logged(async (req) => {
        const { text } = await readJson(req, 4096);
        const member = await host.auth.signedMember(req, text);
        if (!member) throw new WireError("unauthorized", "sign the request with your member key (run `claudemesh dashboard`)", 401);
        const mesh = await host.auth.mesh(member.meshId);
        if (!mesh) throw new WireError("unknown_mesh", "this member's mesh no longer exists", 404);
        const { token, expiresAt } = auth.issueLoginToken({
          meshId: mesh.id,
          meshSlug: mesh.slug,
          memberId: member.id,
          memberName: member.displayName,
          memberRole: member.role,
        });
        return json({ path: `/dashboard/login/${token}`, expiresAt });
      }),
    },
    "/dashboard/login/:token": {
      GET: logged((req) => {
        const session = auth.redeem(req.params.token ?? "");
        if (!session) {
          return messagePage(401, "This login link cannot be used", [
            `Login links work once and for ${LOGIN_TOKEN_TTL_MS / 60_000} minutes. Get a fresh one with:`,
            { code: "claudemesh dashboard" },
          ]);
        }
        const cookie = new Bun.Cookie(COOKIE_NAME, session.cookie, {
          httpOnly: true,
          sameSite: "strict",
          secure: secureCookies(req),
          path: "/dashboard",
          maxAge: Math.floor((session.expiresAt - now()) / 1000),
        });
        // No fragment in Location: the browser keeps the login URL's own fragment across the redirect.
        return new Response(null, { status: 303, headers: { location: "/dashboard", "set-cookie": cookie.serialize(), "cache-control": "no-store" } });
      }),
    },
    "/dashboard/api/me": { GET: api((_req, who) => json(who)) },
    "/dashboard/api/peers": {
      GET: api(async (_req, who) => {
        const live = host.peers.peersOf(who.meshId).sort((a, b) => a.connectedAt - b.connectedAt);
        return json({ peers: await Promise.all(live.map(dashPeer)) });
      }),
    },
    "/dashboard/api/state": { GET: api(async (_req, who) => json({ entries: await view("stateEntries")(who.meshId) })) },
    "/dashboard/api/memory": {
      GET: api(async (req, who) => {
        const url = new URL(req.url);
        const parsed = MemoryQuery.safeParse({ q: url.searchParams.get("q") ?? undefined, tag: url.searchParams.getAll("tag") });
        if (!parsed.success) throw new WireError("invalid_argument", `invalid memory query: ${describeIssues(parsed.error)}`);
        const memories = await view("searchMemory")(who.meshId, { q: parsed.data.q, tags: parsed.data.tag, limit: 50 });
        return json({ memories });
      }),
    },
    "/dashboard/api/memory/:id/forget": {
      POST: api(async (req, who) => {
        sameOrigin(req);
        const id = req.params.id ?? "";
        if (!(await view("forgetMemory")(who.meshId, id, `${who.memberName} (dashboard)`))) {
          throw new WireError("not_found", "no such memory in this mesh (or it was already forgotten)", 404);
        }
        return json({ forgotten: true });
      }),
    },
    "/dashboard/api/files": {
      GET: api(async (_req, who) => json({ files: await view("listFiles")(viewer(who)) })),
      // The raw bytes as the body, name and tags in the query: the same streaming upload as POST /upload.
      POST: api(async (req, who) => {
        sameOrigin(req);
        const parsed = ShareQuery.safeParse(Object.fromEntries(new URL(req.url).searchParams));
        if (!parsed.success) throw new WireError("invalid_argument", `invalid upload: ${describeIssues(parsed.error)}`);
        const len = req.headers.get("content-length");
        const contentLength = len !== null && /^\d+$/.test(len) ? Number(len) : null;
        return json(await view("shareFile")(viewer(who), { ...parsed.data, contentLength, body: req.body }), 201);
      }),
    },
    "/dashboard/api/files/:id": {
      DELETE: api(async (req, who) => {
        sameOrigin(req);
        const id = req.params.id ?? "";
        await view("deleteFile")(viewer(who), id);
        return json({ id, deleted: true });
      }),
    },
    // A link the browser follows: access checked with the cookie, then on to the short-lived file URL.
    "/dashboard/api/files/:id/download": {
      GET: api(async (req, who) => {
        const ticket = await view("fileDownload")(viewer(who), req.params.id ?? "");
        return new Response(null, { status: 303, headers: { location: ticket.url, "cache-control": "no-store" } });
      }),
    },
    "/dashboard/api/activity": { GET: api((_req, who) => json(hub.recent(who.meshId))) },
    "/dashboard/api/events": { GET: api((req, who) => events(req, who)) },
    "/dashboard/api/logout": {
      POST: logged((req) => {
        sameOrigin(req);
        auth.logout(cookieOf(req));
        const expired = new Bun.Cookie(COOKIE_NAME, "", { httpOnly: true, sameSite: "strict", secure: secureCookies(req), path: "/dashboard", maxAge: 0 });
        const res = json({ loggedOut: true });
        res.headers.set("set-cookie", expired.serialize());
        return res;
      }),
    },
    // Anything else under the API: 401 to strangers (nothing to learn about what exists), 404 to members.
    "/dashboard/api/*": {
      GET: api((req) => {
        throw new WireError("not_found", `no dashboard API ${new URL(req.url).pathname}`, 404);
      }),
      POST: api((req) => {
        throw new WireError("not_found", `no dashboard API ${new URL(req.url).pathname}`, 404);
      }),
      DELETE: api((req) => {
        throw new WireError("not_found", `no dashboard API ${new URL(req.url).pathname}`, 404);
      }),
    },
  };
}
