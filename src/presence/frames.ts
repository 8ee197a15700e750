import { z } from "zod";
import { Base64Key, GroupMembership, GroupName, optId, Status } from "../protocol/common.ts";

export const ListPeersFrame = z.object({ type: z.literal("list_peers"), ...optId, group: GroupName.optional() });
export const SetStatusFrame = z.object({ type: z.literal("set_status"), ...optId, status: Status });
export const SetSummaryFrame = z.object({ type: z.literal("set_summary"), ...optId, summary: z.string().max(1000) });

export const Peer = z.object({
  name: z.string(),
  status: Status,
  role: z.string().nullable(),
  groups: z.array(GroupMembership),
  summary: z.string().nullable(),
  sessionPubkey: Base64Key,
  memberId: z.string(),
  /** the member's name from its enrolment, which the session's display name may differ from */
  memberName: z.string(),
  presenceId: z.string(),
  connectedAt: z.number(),
  /** true for the asking session itself */
  self: z.boolean(),
});
export type Peer = z.infer<typeof Peer>;

export const PeersListFrame = z.object({ type: z.literal("peers_list"), ...optId, peers: z.array(Peer) });
