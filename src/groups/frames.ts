import { z } from "zod";
import { GroupName, GroupRole, optId } from "../protocol/common.ts";

export const JoinGroupFrame = z.object({ type: z.literal("join_group"), ...optId, name: GroupName, role: GroupRole.optional() });
export const LeaveGroupFrame = z.object({ type: z.literal("leave_group"), ...optId, name: GroupName });
