import { basename } from "node:path";
import { BrokerClient } from "../client/broker-client.ts";
import { rememberBrokers } from "../client/config.ts";
import { FilesClient, sessionTokenProvider } from "../files/client.ts";
import { type InboundMessage, Messenger } from "../messaging/messenger.ts";
import type { Status } from "../protocol/common.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { pidSocket, preparePidSocketDir, sweepDeadSockets } from "../session/claude-socket.ts";
import { hookSocketPath } from "../session/paths.ts";
import { WireError } from "../protocol/wire-error.ts";
import { log } from "../util/log.ts";
import { retry } from "../util/retry.ts";
import { type ChannelEvent, messageEvent, stateChangeEvent } from "./channel.ts";
import type { HookEventName } from "./hook-protocol.ts";
import { type HookServer, startHookServer } from "./hook-server.ts";
import type { McpIdentity } from "./identity.ts";
import { Inbox } from "./inbox.ts";
import { type McpContext, resultChars, SESSION_TRACKERS } from "./registry.ts";

/** Hello refusals that no retry can fix. */
const FATAL_HELLO = new Set([
  "unknown_mesh",
  "unknown_member",
  "member_revoked",
  "bad_member_signature",
  "bad_session_signature",
  "unauthorized",
  "forbidden",
  "wrong_mesh",
]);

/**
 * The mesh side of one `claudemesh mcp` process: the broker connection (retried until it works, then
 * kept alive by BrokerClient), the Messenger, the Inbox that surfaces each message once, and the hook
 * socket through which Claude Code's hooks report idle / working.
 */
export class McpSession {
  readonly client: BrokerClient;
  readonly messenger: Messenger;
  readonly inbox: Inbox;
  readonly context: McpContext;
  private hooks: HookServer | null = null;
  /**
   * A hook event has arrived. `launch` always wires the hooks; plain `claude` has them only if `install`
   * (or the user) registered them, and a listening socket alone proves nothing.
   */
  private hooksSeen = false;
  private fatal: WireError | null = null;
  private readonly stopping = new AbortController();

  constructor(
    readonly identity: McpIdentity,
    /** Sends a channel notification to Claude Code; rejects when it cannot. */
    private readonly notify: (e: ChannelEvent) => Promise<void>,
  ) {
    this.client = new BrokerClient({
      mesh: identity.mesh,
      ...(identity.pin !== undefined ? { pin: identity.pin } : {}),
      session: identity.session,
      displayName: identity.displayName,
      ...(identity.role ? { role: identity.role } : {}),
      groups: identity.groups,
      trackers: SESSION_TRACKERS,
      ...(identity.sessionDir ? { sessionId: basename(identity.sessionDir) } : {}),
      // Tools wait for a reconnect this long before answering with an error.
      requestTimeoutMs: 10_000,
    });
    this.messenger = new Messenger(this.client, { rootKey: identity.mesh.rootKey, sessionSecretKey: identity.session.secretKey });
    this.inbox = new Inbox(this.messenger, (m) => this.pushMessage(m));
    this.context = {
      client: this.client,
      messenger: this.messenger,
      inbox: this.inbox,
      resultChars: resultChars(),
      files: new FilesClient(() => this.client.url, sessionTokenProvider(this.client, identity.mesh), identity.mesh.caFile),
    };
    this.client.on("frame", (f) => this.onFrame(f));
    this.client.on("fatal", (err) => {
      this.fatal = err;
      log.error("the broker refused this session for good", { code: err.code, message: err.message });
    });
    this.client.on("connected", (ack, reconnect) => {
      log.info(reconnect ? "reconnected to the broker" : "connected to the broker", { mesh: identity.mesh.slug, broker: this.client.url });
      if (ack.brokers) this.saveBrokers(ack.brokers);
    });
    this.client.on("disconnected", (code) => log.warn("lost the broker connection; reconnecting", { code }));
  }

  /** The mesh's broker URLs as the broker just named them, kept for this machine's next sessions. */
  private saveBrokers(urls: string[]): void {
    try {
      if (rememberBrokers(this.identity.mesh.meshId, urls)) log.info("the mesh's broker list changed", { mesh: this.identity.mesh.slug, brokers: urls.length });
    } catch (err) {
      log.warn("cannot save the mesh's broker list", { error: String(err) });
    }
  }

  /** The tool context, or the reason the mesh cannot be used. */
  toolContext(): McpContext {
    if (this.fatal) throw this.fatal;
    return this.context;
  }

  /** Starts the hook socket and the broker connection; never waits for the broker. */
  async start(): Promise<void> {
    try {
      const path = this.hookSocket();
      if (path) {
        this.hooks = await startHookServer(path, (event) => this.applyHook(event));
        if (!this.identity.sessionDir) log.info("listening for Claude Code's hooks", { socket: path });
      }
    } catch (err) {
      log.warn("cannot listen for hooks; status will not follow turns", { error: String(err) });
    }
    void this.connectLoop();
  }

  /**
   * The session dir's socket; without one (plain `claude`), a socket named after the parent process,
   * Claude Code, which `claudemesh hook` finds from its own parent chain (src/session/claude-socket.ts).
   */
  private hookSocket(): string | null {
    if (this.identity.sessionDir) return hookSocketPath(this.identity.sessionDir);
    // Claude Code starts its MCP servers itself (no shell in between): our parent is the claude.
    const sock = pidSocket(process.ppid);
    if (!sock) return null;
    preparePidSocketDir(sock);
    sweepDeadSockets(sock.dir);
    return sock.path;
  }

  /** The MCP client finished initializing: pushes may flow. */
  clientReady(): void {
    this.inbox.start();
  }

  /** The first connect is retried here; once connected, BrokerClient reconnects by itself. */
  private async connectLoop(): Promise<void> {
    const fatal = (err: unknown): err is WireError => err instanceof WireError && FATAL_HELLO.has(err.code);
    try {
      await retry(() => this.client.connect(), {
        baseMs: 250,
        capMs: 10_000,
        signal: this.stopping.signal,
        retryable: (err) => !fatal(err),
        retryAfterMs: (err) => (err instanceof WireError ? err.retryAfterMs : undefined),
        onRetry: (err, delay) => log.warn("cannot reach the broker; retrying", { error: err instanceof Error ? err.message : String(err), retryInMs: delay }),
      });
    } catch (err) {
      if (this.stopping.signal.aborted || !fatal(err)) return;
      this.fatal = err;
      log.error("the broker refused this session", { code: err.code, message: err.message });
    }
  }

  private async pushMessage(m: InboundMessage): Promise<boolean> {
    await this.notify(messageEvent(m, this.identity.mesh.slug));
    this.markWorking();
    return true;
  }

  private onFrame(frame: ServerFrame): void {
    if (frame.type !== "state_change") return;
    // Like a message, a state change pushed into an idle session starts a turn.
    this.notify(stateChangeEvent(frame, this.identity.mesh.slug))
      .then(() => this.markWorking())
      .catch((err) => log.warn("state change push failed", { key: frame.key, error: String(err) }));
  }

  /**
   * A channel push starts a turn, and a turn started that way fires no UserPromptSubmit hook, so the
   * push itself marks the session working. Only with hooks: without them nothing would ever set it
   * back to idle, and `next` messages would be held forever. So plain `claude` waits for its first
   * hook event: an MCP server registered by hand, without the hooks, keeps its status `idle`.
   */
  private markWorking(): void {
    if (!this.hooks || !(this.identity.sessionDir || this.hooksSeen)) return;
    void this.setStatus("working").catch((err) => log.warn("cannot set status working", { error: String(err) }));
  }

  /** From `claudemesh hook`: UserPromptSubmit / PreToolUse → working, Stop → idle. */
  applyHook(event: HookEventName): Promise<boolean> {
    this.hooksSeen = true;
    return this.setStatus(event);
  }

  /**
   * Automatic status changes (hooks, pushes). `dnd` is only ever left through the set_status tool.
   * While disconnected the status is recorded and carried by the next hello.
   */
  private async setStatus(status: Exclude<Status, "dnd">): Promise<boolean> {
    const current = this.client.state.status;
    if (current === "dnd" || current === status) return true;
    if (!this.client.connected) {
      this.client.state.status = status;
      return true;
    }
    await this.client.request({ type: "set_status", status }, "ok");
    return true;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.hooks?.close();
    this.client.close();
  }
}
