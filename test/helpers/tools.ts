import { z } from "zod";
import type { McpTool, ToolContext } from "../../src/client/tool.ts";
import { addMember, connect, type TestBroker, type TestMesh } from "./broker.ts";

/** Looks `tools` up by name; `call` validates the arguments the way the MCP server does before run. */
export function toolbox(tools: McpTool[]) {
  const tool = (name: string) => tools.find((t) => t.name === name) as McpTool;
  const call = (ctx: ToolContext, name: string, args: unknown) => tool(name).run(ctx, z.object(tool(name).input).parse(args));
  return { tool, call };
}

/** What a tool sees in a session of a new member `name` of `mesh`, connected to the broker. */
export async function toolContext(b: TestBroker, mesh: TestMesh, name: string): Promise<ToolContext> {
  return { client: await connect(await addMember(b, mesh, name)) };
}
