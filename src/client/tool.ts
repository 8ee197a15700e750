import type { z } from "zod";
import type { BrokerClient } from "./broker-client.ts";

/**
 * What every MCP tool gets: this session's live broker connection (more fields are added by the MCP server).
 * The contract lives below the features so their tools need nothing from `mcp/`; `mcp/registry.ts` serves them.
 */
export interface ToolContext {
  client: BrokerClient;
}

export interface ToolResult {
  /** Readable text for the model. */
  text: string;
  /** Structured data, returned alongside the text. */
  data?: unknown;
  isError?: boolean;
}

/** One MCP tool; features register theirs in the MCP tool registry. */
export interface McpTool<S extends z.ZodRawShape = z.ZodRawShape, C extends ToolContext = ToolContext> {
  name: string;
  description: string;
  input: S;
  run(ctx: C, args: z.infer<z.ZodObject<S>>): Promise<ToolResult>;
}

export const defineTool = <S extends z.ZodRawShape, C extends ToolContext = ToolContext>(t: McpTool<S, C>): McpTool<S, C> => t;
