import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { errorText } from "../protocol/wire-error.ts";
import { ConnectionLost } from "../util/errors.ts";
import { guidePath, tildify } from "../util/home.ts";
import { log } from "../util/log.ts";
import { VERSION } from "../version.ts";
import { CHANNEL_METHOD, type ChannelEvent } from "./channel.ts";
import { type McpIdentity, resolveIdentity } from "./identity.ts";
import { buildInstructions, unavailableInstructions } from "./instructions.ts";
import { allTools, registerTools } from "./registry.ts";
import { McpSession } from "./session.ts";

/**
 * Stdout belongs to JSON-RPC. Anything that would print there (a dependency's console.log, say) goes
 * to stderr instead, where Claude Code keeps it in its MCP log.
 */
function guardStdout(): void {
  // biome-ignore lint/suspicious/noConsole: this guard is what sends stray console output to stderr
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
}

/**
 * `claudemesh mcp`: the stdio MCP server of one Claude Code session. Answers the MCP handshake at once,
 * connects to the broker in the background, and pushes every incoming message into the conversation as
 * a `notifications/claude/channel`. Resolves when Claude Code goes away.
 */
export async function runMcpServer(opts: { pin?: string } = {}): Promise<void> {
  guardStdout();
  // One stray rejection must not take the session's mesh connection down with it.
  process.on("unhandledRejection", (err) => log.error("unhandled rejection", { error: errorText(err) }));
  const env = process.env;
  const tools = allTools();

  let identity: McpIdentity | null = null;
  let unavailable: Error | null = null;
  try {
    identity = resolveIdentity(env, opts);
  } catch (err) {
    // Still serve: a failing server would show up in every `claude` session; the tools explain instead.
    unavailable = err instanceof Error ? err : new Error(errorText(err));
    log.error("claudemesh mcp cannot join a mesh", { error: errorText(err) });
  }

  const instructions = identity
    ? buildInstructions({
        displayName: identity.displayName,
        meshSlug: identity.mesh.slug,
        role: identity.role,
        groups: identity.groups,
        tools: new Set(tools.map((t) => t.name)),
        guidePath: tildify(guidePath()),
      })
    : unavailableInstructions(errorText(unavailable));

  const server = new McpServer({ name: "claudemesh", version: VERSION }, { capabilities: { tools: {}, experimental: { "claude/channel": {} } }, instructions });
  const notify = (e: ChannelEvent) =>
    // The SDK's types only know the standard notifications; Claude Code's channel is an extension.
    server.server.notification({ method: CHANNEL_METHOD, params: e } as unknown as ServerNotification);

  const session = identity ? new McpSession(identity, notify) : null;
  registerTools(server, tools, () => {
    if (!session) throw unavailable ?? new ConnectionLost("claudemesh is not connected");
    return session.toolContext();
  });
  server.server.oninitialized = () => session?.clientReady();

  const closed = new Promise<string>((resolve) => {
    server.server.onclose = () => resolve("transport closed");
    process.stdin.once("end", () => resolve("stdin closed"));
    process.stdout.on("error", () => resolve("stdout closed"));
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(sig, () => resolve(sig));
  });

  await server.connect(new StdioServerTransport());
  await session?.start();
  log.info(
    "claudemesh mcp ready",
    identity ? { mesh: identity.mesh.slug, name: identity.displayName, sessionDir: identity.sessionDir } : { unavailable: errorText(unavailable) },
  );

  const why = await closed;
  log.info("claudemesh mcp stopping", { reason: why });
  await session?.stop();
  await server.close().catch(() => {});
}
