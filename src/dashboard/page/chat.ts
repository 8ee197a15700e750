// The Chat view: the human's seat at the table. Messages are sealed and opened by MeshSession, in the page.
import type { Priority } from "../../messaging/frames.ts";
import type { DashPeer } from "../../protocol/activity.ts";
import { h } from "./dom.ts";
import type { ChatMessage, MeshSession } from "./session.ts";

const clock = (t: number) => new Date(t).toLocaleTimeString();

export interface ChatDeps {
  session: MeshSession | null;
  /** live peers, as the Peers view has them */
  peers: () => DashPeer[];
  announce: (text: string) => void;
}

/** The chat's form lives across renders, so a live update never interrupts typing or resets a choice. */
export function chatView({ session, peers, announce }: ChatDeps): () => HTMLElement {
  const to = h("select", { id: "chat-to" });
  const priority = h(
    "select",
    { id: "chat-priority" },
    h("option", { value: "now" }, "now (interrupts)"),
    h("option", { value: "next", selected: true }, "next (between tasks)"),
    h("option", { value: "low" }, "low (when they check)"),
  );
  const text = h("textarea", { id: "chat-text", rows: "3", placeholder: "Write to the mesh…", required: true });
  const error = h("p", { id: "chat-error", class: "chat-error", role: "alert" });
  const sendButton = h("button", { type: "submit" }, "Send");
  const form = h(
    "form",
    { class: "chat-form", "aria-label": "send a message" },
    h("div", { class: "chat-field" }, h("label", { for: "chat-to" }, "To"), to),
    h("div", { class: "chat-field" }, h("label", { for: "chat-priority" }, "Priority"), priority),
    h("div", { class: "chat-field grow" }, h("label", { for: "chat-text" }, "Message"), text),
    sendButton,
    error,
  );
  async function submit(): Promise<void> {
    if (!session || !text.value.trim()) return;
    error.textContent = "";
    sendButton.disabled = true;
    try {
      await session.sendMessage(to.value, text.value, priority.value as Priority);
      text.value = "";
      announce(`Sent to ${to.value}`);
    } catch (err) {
      error.textContent = `Not sent: ${(err as Error).message}`;
    } finally {
      sendButton.disabled = false;
      text.focus();
    }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void submit();
  });
  // Enter sends, Shift+Enter starts a new line, as in any chat.
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void submit();
    }
  });

  let optionsKey = "";
  function updateTargets(): void {
    const self = session?.displayName;
    const live = peers().filter((p) => p.name !== self);
    const names = [...new Set(live.map((p) => p.name))].sort();
    const groups = [...new Set(live.flatMap((p) => p.groups.map((g) => g.name)))].sort();
    const key = JSON.stringify([names, groups]);
    if (key === optionsKey) return;
    optionsKey = key;
    const chosen = to.value;
    const options: Node[] = [h("option", { value: "*" }, "everyone (*)")];
    if (groups.length > 0) options.push(h("optgroup", { label: "groups" }, ...groups.map((g) => h("option", { value: `@${g}` }, `@${g}`))));
    if (names.length > 0) options.push(h("optgroup", { label: "peers" }, ...names.map((n) => h("option", { value: n }, n))));
    to.replaceChildren(...options);
    if (Array.from(to.options).some((o) => o.value === chosen)) to.value = chosen;
  }

  const line = (m: ChatMessage) =>
    h(
      "li",
      { class: `msg ${m.direction}${m.authenticated ? "" : " unverified"}`, "data-message": m.id },
      h(
        "div",
        { class: "meta" },
        h("strong", {}, m.direction === "in" ? m.from : "you"),
        ` → ${m.direction === "in" ? m.to : m.to === "*" ? "everyone" : m.to}`,
        // who the broker routed a group or broadcast to; a direct message's recipient is its target
        m.recipients && (m.to.startsWith("@") || m.to === "*") ? ` (${m.recipients.length === 0 ? "nobody online" : m.recipients.join(", ")})` : "",
        " · ",
        h("time", { datetime: new Date(m.at).toISOString() }, clock(m.at)),
        m.priority === "next" ? "" : ` · ${m.priority}`,
      ),
      h("p", { class: "text" }, m.text),
    );

  return () => {
    if (!session) {
      return h(
        "section",
        { "aria-labelledby": "chat-h" },
        h("h2", { id: "chat-h" }, "Chat"),
        h(
          "p",
          { class: "empty" },
          "This tab holds no session key, so it cannot talk to the mesh. Open a fresh link from ",
          h("code", {}, "claudemesh dashboard"),
          ".",
        ),
      );
    }
    updateTargets();
    const s = session.state;
    const online = s.kind === "online";
    sendButton.disabled = !online;
    const status =
      s.kind === "online"
        ? `In the mesh as ${s.name}. What you send is encrypted in this page; the broker sees only ciphertext.`
        : s.kind === "connecting"
          ? "Joining the mesh…"
          : s.message;
    const log = session.messages;
    return h(
      "section",
      { "aria-labelledby": "chat-h", class: "chat" },
      h("h2", { id: "chat-h" }, "Chat"),
      h("p", { class: `chat-status ${s.kind}`, "data-state": s.kind }, status),
      log.length === 0
        ? h("p", { class: "empty" }, "No messages yet — write to a peer, a @group or everyone. Replies addressed to you appear here.")
        : h("ol", { class: "chat-log", role: "log", "aria-label": "messages, oldest first" }, log.map(line)),
      form,
    );
  };
}
