import { z } from "zod";
import { Memory } from "../memory/frames.ts";
import { ActivityEvent, DashPeer } from "../protocol/activity.ts";
import { StateEntry } from "../state/frames.ts";

/** Answer to the member-signed POST /dashboard/tokens: a one-time login path (the CLI adds the fragment). */
export const LoginTokenResponse = z.object({ path: z.string(), expiresAt: z.number() });

export const MeResponse = z.object({ meshId: z.string(), meshSlug: z.string(), memberId: z.string(), memberName: z.string(), memberRole: z.string() });
export const PeersResponse = z.object({ peers: z.array(DashPeer) });
export const StateResponse = z.object({ entries: z.array(StateEntry) });
export const MemoryResponse = z.object({ memories: z.array(Memory) });
/** Messages a live session sent, by priority (the broker never sees their content). */
export const MessageCounts = z.object({ presenceId: z.string(), name: z.string(), now: z.number(), next: z.number(), low: z.number() });
export type MessageCounts = z.infer<typeof MessageCounts>;
export const ActivityResponse = z.object({ events: z.array(ActivityEvent), counts: z.array(MessageCounts) });

/** Query of GET /dashboard/api/memory: `q` free text (blank lists the newest), `tag` repeatable. */
export const MemoryQuery = z.object({ q: z.string().max(4096).default(""), tag: z.array(z.string()).max(16).default([]) });

export type MeResponse = z.infer<typeof MeResponse>;
export type PeersResponse = z.infer<typeof PeersResponse>;
export type StateResponse = z.infer<typeof StateResponse>;
export type MemoryResponse = z.infer<typeof MemoryResponse>;
export type ActivityResponse = z.infer<typeof ActivityResponse>;
