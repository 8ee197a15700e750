import { z } from "zod";
import { defineTool, type McpTool } from "../client/tool.ts";
import type { JsonValue, StateEntry } from "./frames.ts";

const when = (ms: number) => new Date(ms).toISOString();
const show = (v: unknown) => JSON.stringify(v);
const entryLine = (e: StateEntry) => `- ${e.key} = ${show(e.value)} (set by ${e.updatedBy}, ${when(e.updatedAt)})`;

const key = z.string().min(1).describe('State key, e.g. "deploy_frozen", "sprint", "owner:auth-api", "vote:rename-repo:alice" (≤ 256 characters)');

const setState = defineTool({
  name: "set_state",
  description:
    "Write a live shared fact for the whole mesh: one JSON value per key, last write wins. Every other connected peer is notified at once. " +
    "Use state for operational facts that change while you work (who owns a task, whether deploys are frozen, a PR queue, votes) instead of announcing them in messages. " +
    "Use remember instead for lessons and decisions that should outlive the current work.",
  input: {
    key,
    value: z
      .unknown()
      .describe('Any JSON value (≤ 64 KiB): true, 3, "in-review", ["#142","#143"], {"owner":"alice"}, or null. Pass real JSON, not a JSON-encoded string.'),
  },
  async run(ctx, args) {
    // unknown → JsonValue: MCP arguments arrive as parsed JSON, and the broker checks the value anyway
    const r = await ctx.client.request({ type: "set_state", key: args.key, value: args.value as JsonValue }, "state_result");
    return {
      text: `Set ${r.key} = ${show(r.value)}; every other peer was notified.`,
      data: { key: r.key, value: r.value, updatedBy: r.updatedBy, updatedAt: r.updatedAt },
    };
  },
});

const getState = defineTool({
  name: "get_state",
  description: "Read one shared state value of this mesh (the current fact, e.g. whether deploys are frozen), with who set it and when.",
  input: { key },
  async run(ctx, args) {
    const r = await ctx.client.request({ type: "get_state", key: args.key }, "state_result");
    if (!r.found) return { text: `No state is set for "${r.key}".`, data: { key: r.key, found: false, value: null } };
    return {
      text: `${r.key} = ${show(r.value)} (set by ${r.updatedBy}, ${when(r.updatedAt ?? 0)})`,
      data: { key: r.key, found: true, value: r.value, updatedBy: r.updatedBy, updatedAt: r.updatedAt },
    };
  },
});

const listState = defineTool({
  name: "list_state",
  description: "List every shared state key of this mesh with its value, who set it and when: the mesh's current operational picture.",
  input: {},
  async run(ctx) {
    const r = await ctx.client.request({ type: "list_state" }, "state_list");
    const text =
      r.entries.length === 0
        ? "No shared state is set in this mesh."
        : `${r.entries.length} state key${r.entries.length === 1 ? "" : "s"}:\n${r.entries.map(entryLine).join("\n")}`;
    return { text, data: { entries: r.entries } };
  },
});

export const stateTools: McpTool[] = [setState, getState, listState];
