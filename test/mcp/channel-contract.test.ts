/**
 * Guard of the channel contract with Claude Code: it pushes channel messages only over a connection in
 * the "legacy" protocol era that declares `capabilities.experimental["claude/channel"]`. 2.1.332 first
 * probes with `server/discover` (protocol 2026-07-28) and treats a server that answers it as "modern",
 * where channels are skipped ("connection negotiated a modern protocol revision with no unsolicited
 * notification path"). An MCP SDK upgrade could flip that silently; this test fails first. The exchange
 * below is what 2.1.332 sends, captured from its stdin (2.1.197 sends the same initialize, no probe).
 */
import { describe, expect, test } from "bun:test";
import { addMember, createMesh } from "../helpers/broker.ts";
import { baseEnv, configHome, mcpSuite, sessionDir } from "./helpers.ts";

/** The newest revision Claude Code pushes channels under; anything later is "modern". */
const LAST_LEGACY_REVISION = "2025-11-25";
const CLIENT_INFO = {
  name: "claude-code",
  title: "Claude Code",
  version: "2.1.332",
  description: "Anthropic's agentic coding tool",
  websiteUrl: "https://claude.com/claude-code",
};

function rpc(proc: Bun.Subprocess<"pipe", "pipe", "pipe">) {
  const pending = new Map<string | number, (m: any) => void>();
  void (async () => {
    let buf = "";
    const dec = new TextDecoder();
    const reader = proc.stdout.getReader();
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      buf += dec.decode(chunk, { stream: true });
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (msg.id !== undefined) pending.get(msg.id)?.(msg);
      }
    }
  })();
  return {
    request(msg: { id: string | number; method: string; params?: unknown }): Promise<any> {
      const answer = new Promise<any>((resolve) => pending.set(msg.id, resolve));
      proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...msg })}\n`);
      proc.stdin.flush();
      return answer;
    },
  };
}

describe("channel contract with Claude Code", () => {
  const suite = mcpSuite();

  test("the server/discover probe is refused and initialize stays in the legacy era with claude/channel declared", async () => {
    const mesh = await createMesh(suite.broker, "contract");
    const member = await addMember(suite.broker, mesh, "contract-member");
    const home = configHome([member]);
    const env = baseEnv({ CLAUDEMESH_HOME: home, CLAUDEMESH_SESSION_DIR: sessionDir("contract", "Alice", null, "") });
    const proc = Bun.spawn([suite.bin, "mcp"], { env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    try {
      const io = rpc(proc);
      const probe = await io.request({
        id: "server-discover-probe-1",
        method: "server/discover",
        params: {
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
            "io.modelcontextprotocol/clientCapabilities": {
              roots: { listChanged: true },
              elicitation: { form: {}, url: {} },
              extensions: { "io.modelcontextprotocol/tasks": {} },
            },
          },
        },
      });
      // An error (method not found) makes Claude Code fall back to initialize: the legacy era.
      expect(probe.result).toBeUndefined();
      expect(probe.error?.code).toBe(-32601);

      const init = await io.request({
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: { roots: { listChanged: true }, elicitation: { form: {}, url: {} } }, clientInfo: CLIENT_INFO },
      });
      expect(init.error).toBeUndefined();
      expect(init.result.protocolVersion <= LAST_LEGACY_REVISION).toBe(true);
      expect(init.result.capabilities.experimental).toEqual({ "claude/channel": {} });
      expect(init.result.capabilities.tools).toBeDefined();

      // 2.1.197 asks for the same revision without a probe; an older client gets its own revision back.
      const oldEnv = baseEnv({ CLAUDEMESH_HOME: home, CLAUDEMESH_SESSION_DIR: sessionDir("contract", "Bob", null, "") });
      const old = Bun.spawn([suite.bin, "mcp"], { env: oldEnv, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      try {
        const r = await rpc(old).request({
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { ...CLIENT_INFO, version: "2.1.0" } },
        });
        expect(r.result.protocolVersion).toBe("2025-06-18");
        expect(r.result.capabilities.experimental).toEqual({ "claude/channel": {} });
      } finally {
        old.kill();
        await old.exited;
      }
    } finally {
      proc.kill();
      await proc.exited;
    }
  });
});
