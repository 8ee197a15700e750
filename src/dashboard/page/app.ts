// The dashboard page: plain DOM, no framework. Types come from the broker's schemas (type-only imports,
// erased from the bundle), so the page and the API cannot drift apart silently.
import type { ActivityEvent, DashPeer } from "../../protocol/activity.ts";
import type { FileListing } from "../../files/api.ts";
import type { Memory } from "../../memory/frames.ts";
import type { StateEntry } from "../../state/frames.ts";
import { humanSize } from "../../util/size.ts";
import { chatView } from "./chat.ts";
import { $, type Child, h } from "./dom.ts";
import { MeshSession, sessionKeys } from "./session.ts";
import type { ActivityResponse, FilesResponse, MeResponse, MemoryResponse, MessageCounts, PeersResponse, StateResponse } from "../api.ts";

type View = "peers" | "state" | "memory" | "files" | "activity" | "chat";
const VIEWS: View[] = ["peers", "state", "memory", "files", "activity", "chat"];

// ---- keys from the login URL's fragment: kept in this tab only, never sent anywhere ----
const FRAGMENT_KEY = "claudemesh.fragment";
if (location.hash.length > 1) {
  sessionStorage.setItem(FRAGMENT_KEY, location.hash.slice(1));
  history.replaceState(null, "", location.pathname + location.search);
}

// ---- API ----
async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`/dashboard/api/${path}`, { credentials: "same-origin", ...init });
  if (res.status === 401) {
    location.href = "/dashboard/signin";
    throw new Error("logged out");
  }
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`);
  return (await res.json()) as T;
}

// ---- time ----
const fmtTime = (t: number) => new Date(t).toLocaleString();
const clock = (t: number) => new Date(t).toLocaleTimeString();
function ago(t: number): string {
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}
const timeEl = (t: number, text = ago(t)) => h("time", { datetime: new Date(t).toISOString(), title: fmtTime(t) }, text);

// ---- store ----
const store = {
  peers: new Map<string, DashPeer>(),
  state: new Map<string, StateEntry>(),
  events: [] as ActivityEvent[],
  counts: new Map<string, MessageCounts>(),
  flashKeys: new Set<string>(),
  groupFilter: "",
  memoryQuery: "",
  memories: [] as Memory[],
  memoryLoaded: false,
  files: [] as FileListing[],
  filesLoaded: false,
  me: null as MeResponse | null,
};

let view: View = viewFromPath();
function viewFromPath(): View {
  const v = location.pathname.split("/")[2] as View | undefined;
  return v && VIEWS.includes(v) ? v : "peers";
}

function describe(e: ActivityEvent): string {
  switch (e.type) {
    case "peer_joined":
      return `${e.peer.name} joined (member ${e.peer.memberName})`;
    case "peer_updated":
      return `${e.peer.name} updated: ${e.peer.summary ?? "no summary"}${e.peer.groups.length ? ` · groups ${e.peer.groups.map((g) => "@" + g.name).join(", ")}` : ""}`;
    case "peer_status":
      return `${e.name} is now ${e.status}`;
    case "peer_left":
      return `${e.name} left`;
    case "state_changed":
      return `${e.entry.updatedBy} set ${e.entry.key}`;
    case "memory_stored":
      return `${e.memory.rememberedBy} remembered a fact${e.memory.tags.length ? ` (${e.memory.tags.join(", ")})` : ""}`;
    case "memory_forgotten":
      return `${e.by} forgot a memory`;
    case "file_shared":
      return `${e.file.uploadedBy} shared ${e.file.name} (${humanSize(e.file.size)})`;
    case "file_deleted":
      return `${e.by} deleted ${e.name}`;
    case "message_sent":
      return `${e.name} sent a ${e.priority} message to ${e.recipients} peer${e.recipients === 1 ? "" : "s"}`;
  }
}

/** Events that came while a snapshot was on its way; null when none is. */
let duringSnapshot: ActivityEvent[] | null = null;

/** What an event does to the peers and state maps: idempotent, so it can be replayed onto a snapshot. */
function applyToMaps(e: ActivityEvent): void {
  switch (e.type) {
    case "peer_joined":
      store.peers.set(e.peer.presenceId, e.peer);
      break;
    case "peer_updated": {
      // The member behind a session never changes; only what the session says about itself does.
      const p = store.peers.get(e.peer.presenceId);
      if (p) store.peers.set(p.presenceId, { ...p, ...e.peer });
      break;
    }
    case "peer_status": {
      const p = store.peers.get(e.presenceId);
      if (p) p.status = e.status;
      break;
    }
    case "peer_left":
      store.peers.delete(e.presenceId);
      store.counts.delete(e.presenceId);
      break;
    case "state_changed":
      store.state.set(e.entry.key, e.entry);
      store.flashKeys.add(e.entry.key);
      break;
  }
}

function apply(e: ActivityEvent): void {
  duringSnapshot?.push(e);
  store.events.push(e);
  if (store.events.length > 500) store.events.splice(0, store.events.length - 500);
  applyToMaps(e);
  switch (e.type) {
    case "memory_stored":
      if (!store.memoryQuery) store.memories.unshift(e.memory);
      break;
    case "memory_forgotten":
      store.memories = store.memories.filter((m) => m.id !== e.memoryId);
      break;
    case "file_shared":
    case "file_deleted":
      // What a member may see depends on who it is: the broker's list says, not the event.
      if (store.filesLoaded) void loadFiles();
      break;
    case "message_sent": {
      let c = store.counts.get(e.presenceId);
      if (!c) store.counts.set(e.presenceId, (c = { presenceId: e.presenceId, name: e.name, now: 0, next: 0, low: 0 }));
      c[e.priority]++;
      break;
    }
  }
  render();
}

// ---- views ----
const empty = (...parts: Child[]) => h("p", { class: "empty" }, ...parts);

function statusEl(status: DashPeer["status"]) {
  const word = { idle: "idle", working: "working", dnd: "do not disturb" }[status];
  return h("span", { class: `status ${status}` }, word);
}

function peersView(): HTMLElement {
  const all = [...store.peers.values()].sort((a, b) => a.connectedAt - b.connectedAt);
  const groups = [...new Set(all.flatMap((p) => p.groups.map((g) => g.name)))].sort();
  if (store.groupFilter && !groups.includes(store.groupFilter)) store.groupFilter = "";
  const shown = store.groupFilter ? all.filter((p) => p.groups.some((g) => g.name === store.groupFilter)) : all;
  const select = h(
    "select",
    { id: "group-filter", onchange: (e: Event) => ((store.groupFilter = (e.target as HTMLSelectElement).value), render()) },
    h("option", { value: "" }, "all groups"),
    groups.map((g) => h("option", { value: g, selected: g === store.groupFilter }, `@${g}`)),
  );
  return h(
    "section",
    { "aria-labelledby": "peers-h" },
    h("h2", { id: "peers-h" }, `Peers online (${all.length})`),
    all.length > 0 && h("div", { class: "toolbar" }, h("label", { for: "group-filter" }, "Filter by group"), select),
    // This page's own session is a peer too, but no company: the empty state still says how to get some.
    all.every((p) => p.sessionPubkey === ownSession) &&
      empty(all.length === 0 ? "No peers online — start one with " : "No other peers online — start one with ", h("code", {}, "claudemesh launch"), "."),
    all.length === 0
      ? null
      : shown.length === 0
        ? empty(`No peer is in @${store.groupFilter}.`)
        : h(
            "ul",
            { class: "cards", "aria-label": "peers" },
            shown.map((p) =>
              h(
                "li",
                { class: "card peer", "data-peer": p.name },
                h("h3", {}, h("span", {}, p.name), statusEl(p.status)),
                h(
                  "div",
                  { class: "meta" },
                  `member ${p.memberName} (${p.memberRole})`,
                  p.sessionPubkey === ownSession ? " · this page" : "",
                  p.role ? ` · role ${p.role}` : "",
                  " · connected ",
                  timeEl(p.connectedAt),
                ),
                p.groups.length > 0 &&
                  h(
                    "ul",
                    { class: "chips", "aria-label": "groups" },
                    p.groups.map((g) => h("li", { class: "chip" }, `@${g.name}${g.role ? ` · ${g.role}` : ""}`)),
                  ),
                h("p", { class: "summary" }, p.summary ?? h("span", { class: "meta" }, "no summary")),
              ),
            ),
          ),
  );
}

function stateView(): HTMLElement {
  const entries = [...store.state.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const flashing = new Set(store.flashKeys);
  store.flashKeys.clear();
  return h(
    "section",
    { "aria-labelledby": "state-h" },
    h("h2", { id: "state-h" }, `Shared state (${entries.length} key${entries.length === 1 ? "" : "s"})`),
    entries.length === 0
      ? empty("No shared state yet — peers write it with ", h("code", {}, "set_state"), ".")
      : h(
          "ul",
          { class: "rows", "aria-label": "state keys" },
          entries.map((e) =>
            h(
              "li",
              { class: `card state-entry${flashing.has(e.key) ? " flash" : ""}`, "data-key": e.key },
              h(
                "details",
                { open: JSON.stringify(e.value).length < 400 },
                h("summary", {}, h("span", { class: "key" }, e.key), " ", h("span", { class: "meta" }, `by ${e.updatedBy} · `, timeEl(e.updatedAt))),
                h("pre", { class: "json" }, JSON.stringify(e.value, null, 2)),
              ),
            ),
          ),
        ),
  );
}

let memorySeq = 0;
async function searchMemory(q: string): Promise<void> {
  store.memoryQuery = q.trim();
  const seq = ++memorySeq;
  const res = await api<MemoryResponse>(`memory?q=${encodeURIComponent(store.memoryQuery)}`);
  if (seq !== memorySeq) return;
  store.memories = res.memories;
  store.memoryLoaded = true;
  render();
}

async function forget(m: Memory, button: HTMLButtonElement): Promise<void> {
  if (!confirm(`Forget this memory for the whole mesh?\n\n${m.content.slice(0, 200)}`)) return;
  button.disabled = true;
  try {
    await api(`memory/${encodeURIComponent(m.id)}/forget`, { method: "POST" });
    store.memories = store.memories.filter((x) => x.id !== m.id);
    render();
    announce("Memory forgotten");
  } catch (err) {
    button.disabled = false;
    announce(`Could not forget: ${(err as Error).message}`);
  }
}

// The search form lives across renders so typing is never interrupted by a live update.
const memoryForm = h(
  "form",
  { class: "toolbar", role: "search", onsubmit: (e: Event) => (e.preventDefault(), void searchMemory(memoryInput.value)) },
  h("label", { for: "memory-q", class: "visually-hidden" }, "Search memory"),
);
const memoryInput = h("input", { id: "memory-q", type: "search", placeholder: "Search what the mesh remembers…", autocomplete: "off" });
memoryForm.append(memoryInput, h("button", { type: "submit" }, "Search"));

function memoryView(): HTMLElement {
  if (!store.memoryLoaded) void searchMemory(store.memoryQuery);
  const list = store.memories;
  return h(
    "section",
    { "aria-labelledby": "memory-h" },
    h("h2", { id: "memory-h" }, "Memory"),
    memoryForm,
    !store.memoryLoaded
      ? h("p", { class: "meta" }, "Loading…")
      : list.length === 0
        ? store.memoryQuery
          ? empty(`Nothing remembered matches “${store.memoryQuery}”.`)
          : empty("Nothing remembered yet — peers store facts with ", h("code", {}, "remember"), ".")
        : h(
            "ol",
            { class: "rows", "aria-label": store.memoryQuery ? `results for ${store.memoryQuery}, best first` : "newest memories" },
            list.map((m) => {
              const button = h("button", { type: "button", class: "danger", "aria-label": `Forget: ${m.content.slice(0, 60)}` }, "Forget");
              button.addEventListener("click", () => void forget(m, button));
              return h(
                "li",
                { class: "card memory", "data-memory": m.id },
                h("p", { class: "summary" }, m.content),
                m.tags.length > 0 &&
                  h(
                    "ul",
                    { class: "chips", "aria-label": "tags" },
                    m.tags.map((t) => h("li", { class: "chip" }, t)),
                  ),
                h(
                  "div",
                  { class: "toolbar", style: "margin: .5rem 0 0; justify-content: space-between" },
                  h("span", { class: "meta" }, `by ${m.rememberedBy} · `, timeEl(m.rememberedAt, fmtTime(m.rememberedAt))),
                  button,
                ),
              );
            }),
          ),
  );
}

// ---- files ----
let filesSeq = 0;
async function loadFiles(): Promise<void> {
  const seq = ++filesSeq;
  const res = await api<FilesResponse>("files");
  if (seq !== filesSeq) return;
  store.files = res.files;
  store.filesLoaded = true;
  render();
}

const canDelete = (f: FileListing) => store.me !== null && (f.uploadedByMember === store.me.memberId || ["owner", "admin"].includes(store.me.memberRole));

async function deleteFile(f: FileListing, button: HTMLButtonElement): Promise<void> {
  if (!confirm(`Delete ${f.name} for the whole mesh?`)) return;
  button.disabled = true;
  try {
    await api(`files/${encodeURIComponent(f.id)}`, { method: "DELETE" });
    store.files = store.files.filter((x) => x.id !== f.id);
    render();
    announce(`${f.name} deleted`);
  } catch (err) {
    button.disabled = false;
    announce(`Could not delete ${f.name}: ${(err as Error).message}`);
  }
}

// The upload box lives across renders, like the memory search: a live update never drops a choice.
const uploadStatus = h("p", { id: "upload-status", class: "meta", "aria-live": "polite" });
const tagsInput = h("input", { id: "upload-tags", type: "text", placeholder: "tags, comma-separated (optional)", autocomplete: "off" });
const fileInput = h("input", { id: "upload-file", type: "file", multiple: true, class: "visually-hidden" });
const dropzone = h(
  "div",
  { class: "dropzone", id: "dropzone" },
  h("p", {}, "Drop files here to share them with the whole mesh, or ", h("label", { for: "upload-file", class: "pick", tabindex: "0" }, "choose files"), "."),
  fileInput,
  h("div", { class: "toolbar" }, h("label", { for: "upload-tags" }, "Tags"), tagsInput),
  uploadStatus,
);

async function share(files: File[]): Promise<void> {
  for (const f of files) {
    uploadStatus.textContent = `Uploading ${f.name} (${humanSize(f.size)})…`;
    try {
      const q = new URLSearchParams({ name: f.name });
      if (tagsInput.value.trim()) q.set("tags", tagsInput.value);
      await api(`files?${q}`, { method: "POST", body: f });
      uploadStatus.textContent = `Shared ${f.name}.`;
    } catch (err) {
      uploadStatus.textContent = `Could not share ${f.name}: ${(err as Error).message}`;
      break;
    }
  }
  await loadFiles();
}
fileInput.addEventListener("change", () => {
  void share(Array.from(fileInput.files ?? []));
  fileInput.value = "";
});
// the label is the button: Enter and Space open the picker as they would on a real button
dropzone.querySelector(".pick")?.addEventListener("keydown", (e) => {
  const k = (e as KeyboardEvent).key;
  if (k === "Enter" || k === " ") {
    e.preventDefault();
    fileInput.click();
  }
});
dropzone.addEventListener("dragover", (e) => {
  e.preventDefault();
  dropzone.classList.add("over");
});
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
dropzone.addEventListener("drop", (e) => {
  e.preventDefault();
  dropzone.classList.remove("over");
  void share(Array.from((e as DragEvent).dataTransfer?.files ?? []));
});

function fileRow(f: FileListing): HTMLElement {
  const button = canDelete(f) ? h("button", { type: "button", class: "danger", "aria-label": `Delete ${f.name}` }, "Delete") : null;
  button?.addEventListener("click", () => void deleteFile(f, button));
  return h(
    "li",
    { class: "file", "data-file": f.id },
    h("a", { href: `/dashboard/api/files/${encodeURIComponent(f.id)}/download`, download: f.storedName, class: "name" }, f.name),
    h(
      "span",
      { class: "meta" },
      `${humanSize(f.size)} · by ${f.uploadedBy} · `,
      h("span", { class: "downloads" }, `${f.downloads} download${f.downloads === 1 ? "" : "s"}`),
      " · ",
      timeEl(f.uploadedAt),
    ),
    button,
  );
}

/** `total`: the files in the folder and below it (a file with two tags counts once). */
function folder(name: string, files: FileListing[], children: HTMLElement[] = [], total = files.length): HTMLElement {
  return h(
    "li",
    { class: "folder", "data-folder": name },
    h(
      "details",
      { open: true },
      h("summary", {}, h("span", { "aria-hidden": "true" }, "▸ "), `${name}/`, " ", h("span", { class: "meta" }, `(${total})`)),
      h("ul", { class: "tree" }, children, files.map(fileRow)),
    ),
  );
}

function filesView(): HTMLElement {
  if (!store.filesLoaded) void loadFiles();
  const shared = store.files.filter((f) => f.persistent);
  const recent = store.files.filter((f) => !f.persistent);
  const tags = [...new Set(shared.flatMap((f) => f.tags))].sort();
  // a file with several tags sits in each of their folders, as a file in the spec's tree would
  const tagFolders = tags.map((t) =>
    folder(
      t,
      shared.filter((f) => f.tags.includes(t)),
    ),
  );
  const days = new Map<string, FileListing[]>();
  for (const f of recent) {
    const d = new Date(f.uploadedAt).toLocaleDateString("en-CA");
    days.set(d, [...(days.get(d) ?? []), f]);
  }
  return h(
    "section",
    { "aria-labelledby": "files-h" },
    h("h2", { id: "files-h" }, `Files (${store.files.length})`),
    dropzone,
    !store.filesLoaded
      ? h("p", { class: "meta" }, "Loading…")
      : store.files.length === 0
        ? empty("No files yet — share one with ", h("code", {}, "claudemesh share <path>"), " or drop it above.")
        : h(
            "ul",
            { class: "tree root", "aria-label": "files" },
            folder(
              "shared",
              shared.filter((f) => f.tags.length === 0),
              tagFolders,
              shared.length,
            ),
            recent.length > 0 &&
              folder(
                "recent",
                [],
                [...days].map(([d, fs]) => folder(d, fs)),
                recent.length,
              ),
          ),
  );
}

function activityView(): HTMLElement {
  const counts = [...store.counts.values()];
  const events = [...store.events].reverse();
  return h(
    "div",
    {},
    h(
      "section",
      { "aria-labelledby": "counts-h" },
      h("h2", { id: "counts-h" }, "Messages sent by live peers"),
      counts.length === 0
        ? empty("No messages sent yet. The broker counts them by priority; it never sees their content.")
        : h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, "Peer"),
                ["now", "next", "low"].map((p) => h("th", { scope: "col", class: "n" }, p)),
              ),
            ),
            h(
              "tbody",
              {},
              counts.map((c) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, c.name),
                  h("td", { class: "n" }, String(c.now)),
                  h("td", { class: "n" }, String(c.next)),
                  h("td", { class: "n" }, String(c.low)),
                ),
              ),
            ),
          ),
    ),
    h(
      "section",
      { "aria-labelledby": "timeline-h" },
      h("h2", { id: "timeline-h" }, "Timeline"),
      events.length === 0
        ? empty("Nothing has happened yet. Joins, status changes, state writes and memories appear here as they happen.")
        : h(
            "ol",
            { class: "timeline", "aria-label": "events, newest first" },
            events.map((e) => h("li", { "data-type": e.type }, timeEl(e.at, clock(e.at)), h("span", {}, describe(e)))),
          ),
    ),
  );
}

function render(): void {
  document.querySelectorAll<HTMLAnchorElement>(".tabs a").forEach((a) => {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  const main = $("main");
  const focused = document.activeElement;
  const el = { peers: peersView, state: stateView, memory: memoryView, files: filesView, activity: activityView, chat: () => renderChat() }[view]();
  main.replaceChildren(el);
  // Re-rendering replaces (or moves) nodes; keep what had focus focused, so typing and the keyboard go on.
  if (focused instanceof HTMLElement && focused.id && document.activeElement !== focused) document.getElementById(focused.id)?.focus();
  document.title = `${view[0]?.toUpperCase()}${view.slice(1)} · ${$("mesh").textContent} · claudemesh`;
}

/** Tells screen readers what an action did, without moving focus. */
function announce(text: string): void {
  $("announce").textContent = text;
}

function go(v: View, push = true): void {
  view = v;
  if (v === "chat") unread(0);
  // attachments and download counts raise no live event: opening the view fetches them fresh
  if (v === "files" && store.filesLoaded) void loadFiles();
  if (push) history.pushState(null, "", `/dashboard/${v}`);
  render();
  $("main").focus();
}

// ---- live ----
function setLive(on: boolean): void {
  $("live").textContent = on ? "live" : "reconnecting…";
  $("live").classList.toggle("on", on);
}

async function loadSnapshot(): Promise<void> {
  const arrived: ActivityEvent[] = [];
  duringSnapshot = arrived;
  let answers: [PeersResponse, StateResponse, ActivityResponse];
  try {
    answers = await Promise.all([api<PeersResponse>("peers"), api<StateResponse>("state"), api<ActivityResponse>("activity")]);
  } finally {
    if (duringSnapshot === arrived) duringSnapshot = null;
  }
  const [peers, state, activity] = answers;
  store.peers = new Map(peers.peers.map((p) => [p.presenceId, p]));
  store.state = new Map(state.entries.map((e) => [e.key, e]));
  // A peer that joined (or a key written) while the snapshot was on its way may be missing from it; its
  // event already came, so it is replayed onto the snapshot.
  for (const e of arrived) applyToMaps(e);
  store.events = activity.events;
  store.counts = new Map(activity.counts.map((c) => [c.presenceId, c]));
  if (store.memoryLoaded) void searchMemory(store.memoryQuery);
  if (store.filesLoaded) void loadFiles();
  render();
}

function connect(): void {
  const es = new EventSource("/dashboard/api/events");
  // "ready" arrives once the stream listens, so a snapshot taken after it misses nothing.
  es.addEventListener("ready", () => {
    setLive(true);
    void loadSnapshot();
  });
  es.addEventListener("activity", (m) => apply(JSON.parse((m as MessageEvent<string>).data) as ActivityEvent));
  es.addEventListener("error", () => {
    setLive(false);
    // A 401 closes the stream for good; find out whether we were logged out.
    if (es.readyState === EventSource.CLOSED)
      void api("me").then(
        () => setTimeout(connect, 1000),
        () => {},
      );
  });
}

// ---- the page's own session in the mesh (Chat) ----
let renderChat: () => HTMLElement = () => h("section", {}, h("h2", {}, "Chat"), h("p", { class: "meta" }, "Loading…"));
let unreadCount = 0;
/** the session key of this page's own seat in the mesh, if the login link gave it one */
let ownSession: string | null = null;
function unread(n: number): void {
  unreadCount = n;
  const badge = $("chat-unread");
  badge.textContent = n > 0 ? String(n) : "";
  badge.setAttribute("aria-label", n > 0 ? `${n} unread` : "");
}

function startChat(me: MeResponse): void {
  const keys = sessionKeys(sessionStorage.getItem(FRAGMENT_KEY));
  ownSession = keys?.sessionPubkey ?? null;
  let seenIn = 0;
  const session = keys
    ? new MeshSession(me, keys, () => {
        const incoming = session?.messages.filter((m) => m.direction === "in").length ?? 0;
        if (incoming > seenIn && view !== "chat") unread(unreadCount + incoming - seenIn);
        if (incoming > seenIn) announce(`New message from ${session?.messages.at(-1)?.from ?? "a peer"}`);
        seenIn = incoming;
        render();
      })
    : null;
  renderChat = chatView({ session, peers: () => [...store.peers.values()], announce });
  session?.start();
}

async function main(): Promise<void> {
  const me = await api<MeResponse>("me");
  store.me = me;
  startChat(me);
  $("mesh").textContent = me.meshSlug;
  $("member").textContent = `${me.memberName} (${me.memberRole})`;
  $("logout").addEventListener("click", async () => {
    await fetch("/dashboard/api/logout", { method: "POST", credentials: "same-origin" });
    sessionStorage.removeItem(FRAGMENT_KEY);
    location.href = "/dashboard/signin";
  });
  document.querySelectorAll<HTMLAnchorElement>(".tabs a").forEach((a) =>
    a.addEventListener("click", (e) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return;
      e.preventDefault();
      go(a.dataset.view as View);
    }),
  );
  window.addEventListener("popstate", () => go(viewFromPath(), false));
  // Relative times stay true without a reload.
  setInterval(() => {
    if (document.activeElement?.tagName !== "SELECT") render();
  }, 30_000);
  render();
  connect();
}

void main();
