import { defineCommand } from "citty";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "mcp", description: "Stdio MCP server for one Claude Code session (Claude Code starts it; not for humans)" },
    args: { broker: { type: "string", description: "Use this broker URL only: the session never fails over to another node" } },
    async run({ args }) {
      // zod compiles a fast parser for each object schema the first time it parses one: ~27 ms of the
      // MCP server's start (the SDK's JSON-RPC unions), for a process that parses a few frames a second.
      const { z } = await import("zod");
      z.config({ jitless: true });
      // Imported here so that `claudemesh --help` does not load the MCP SDK.
      const { runMcpServer } = await import("../../mcp/server.ts");
      const { brokerPin } = await import("../../client/config.ts");
      await runMcpServer(args.broker !== undefined ? { pin: brokerPin(args.broker) } : {});
      return 0;
    },
  }),
  "claudemesh mcp   # Claude Code starts this itself once `claudemesh install` registered it",
);
