import { chmodSync, rmSync, statSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { z } from "zod";
import { log } from "../util/log.ts";
import { HOOK_EVENTS, type HookEventName, MAX_HOOK_LINE } from "./hook-protocol.ts";

const HookLine = z.object({ event: z.enum(HOOK_EVENTS), hook: z.unknown().optional() });

export interface HookServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Applies one hook event; resolves true once the broker has the new status. */
export type HookHandler = (event: HookEventName, hook: unknown) => Promise<boolean>;

/**
 * Listens on the session dir's Unix socket for `claudemesh hook` (src/mcp/hook-protocol.ts). The dir is
 * 0700, so only this user reaches the socket; a stale socket left by a crashed process is replaced.
 */
export async function startHookServer(path: string, handle: HookHandler): Promise<HookServer> {
  rmSync(path, { force: true });
  const server = createServer((sock) => serve(sock, handle));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  server.on("error", (err) => log.warn("hook socket error", { error: String(err) }));
  const ino = statSync(path).ino;
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A newer mcp process of this session may have taken the path over: only remove our own socket.
        try {
          if (statSync(path).ino === ino) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      }),
  };
}

function serve(sock: Socket, handle: HookHandler): void {
  let buf = "";
  let handled = false;
  sock.setEncoding("utf8");
  sock.on("error", () => sock.destroy());
  // A client that connects and never finishes must not keep the server from closing.
  sock.setTimeout(5000, () => sock.destroy());
  sock.on("data", (chunk: string) => {
    if (handled) return;
    buf += chunk;
    const nl = buf.indexOf("\n");
    if (nl === -1) {
      if (buf.length > MAX_HOOK_LINE) sock.destroy();
      return;
    }
    handled = true;
    let line: z.infer<typeof HookLine>;
    try {
      line = HookLine.parse(JSON.parse(buf.slice(0, nl)));
    } catch {
      sock.end('{"ok":false}\n');
      return;
    }
    void handle(line.event, line.hook ?? null)
      .catch((err) => {
        log.warn("hook event failed", { event: line.event, error: String(err) });
        return false;
      })
      .then((ok) => sock.end(`${JSON.stringify({ ok })}\n`));
  });
}
