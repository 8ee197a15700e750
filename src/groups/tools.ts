import { defineTool, type McpTool } from "../client/tool.ts";
import { GroupRole } from "../protocol/common.ts";
import { bareGroup, GroupArg } from "./frames.ts";

const groupName = GroupArg.describe('Group name, e.g. "frontend"');
const bare = bareGroup;

const joinGroup = defineTool({
  name: "join_group",
  description:
    "Join a group (a routing label: messages to @name reach its members), or change your role in one you are in. Roles are free-form; by convention lead gathers and synthesizes, member contributes, observer watches.",
  input: {
    name: groupName,
    role: GroupRole.optional().describe('Your role in the group, e.g. "lead", "member", "observer"'),
  },
  async run(ctx, args) {
    const name = bare(args.name);
    await ctx.client.request({ type: "join_group", name, ...(args.role ? { role: args.role } : {}) }, "ok");
    return { text: `You are in @${name}${args.role ? ` as ${args.role}` : ""}.`, data: { group: name, role: args.role ?? null } };
  },
});

const leaveGroup = defineTool({
  name: "leave_group",
  description: "Leave a group; messages to @name no longer reach you.",
  input: { name: groupName },
  async run(ctx, args) {
    const name = bare(args.name);
    await ctx.client.request({ type: "leave_group", name }, "ok");
    return { text: `You left @${name}.`, data: { group: name } };
  },
});

export const groupTools: McpTool[] = [joinGroup, leaveGroup];
