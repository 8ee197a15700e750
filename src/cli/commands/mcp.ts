import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "mcp", description: "Stdio MCP server for one Claude Code session (Claude Code starts it; not for humans)" },
  async run() {
    // Imported here so that `claudemesh --help` does not load the MCP SDK.
    const { runMcpServer } = await import("../../mcp/server.ts");
    await runMcpServer();
    return 0;
  },
});
