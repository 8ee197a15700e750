import { z } from "zod";
import { GroupName, GroupRole, optId } from "../protocol/common.ts";

export const JoinGroupFrame = z.object({ type: z.literal("join_group"), ...optId, name: GroupName, role: GroupRole.optional() });
export const LeaveGroupFrame = z.object({ type: z.literal("leave_group"), ...optId, name: GroupName });

/** A group name as Claude may write it: "frontend" or the routing form "@frontend" (GroupName otherwise). */
export const GroupArg = z.string().regex(/^@?[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, _ . or -");
export const bareGroup = (name: string) => name.replace(/^@/, "");
