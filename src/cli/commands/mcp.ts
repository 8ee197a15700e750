import { defineCommand } from "citty";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "mcp", description: "Stdio MCP server for one Claude Code session (Claude Code starts it; not for humans)" },
    async run() {
      // Imported here so that `claudemesh --help` does not load the MCP SDK.
      const { runMcpServer } = await import("../../mcp/server.ts");
      await runMcpServer();
      return 0;
    },
  }),
  "claudemesh mcp   # Claude Code starts this itself once `claudemesh install` registered it",
);
