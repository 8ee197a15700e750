import { z } from "zod";
import type { FileListing } from "../files/api.ts";
import type { Memory } from "../memory/frames.ts";
import type { ActivityEvent, DashPeer } from "../protocol/activity.ts";
import type { StateEntry } from "../state/frames.ts";

// What the broker parses has a schema here; what it only sends back is typed from the schemas of the
// frames and events it is made of (type-only imports: this file ranks below them).

/** Answer to the member-signed POST /dashboard/tokens: a one-time login path (the CLI adds the fragment). */
export const LoginTokenResponse = z.object({ path: z.string(), expiresAt: z.number() });

export const MeResponse = z.object({ meshId: z.string(), meshSlug: z.string(), memberId: z.string(), memberName: z.string(), memberRole: z.string() });
export type MeResponse = z.infer<typeof MeResponse>;
/** Messages a live session sent, by priority (the broker never sees their content). */
export const MessageCounts = z.object({ presenceId: z.string(), name: z.string(), now: z.number(), next: z.number(), low: z.number() });
export type MessageCounts = z.infer<typeof MessageCounts>;

export interface PeersResponse {
  peers: DashPeer[];
}
export interface StateResponse {
  entries: StateEntry[];
}
export interface MemoryResponse {
  memories: Memory[];
}
export interface FilesResponse {
  files: FileListing[];
}
export interface ActivityResponse {
  events: ActivityEvent[];
  counts: MessageCounts[];
}

/** Query of GET /dashboard/api/memory: `q` free text (blank lists the newest), `tag` repeatable. */
export const MemoryQuery = z.object({ q: z.string().max(4096).default(""), tag: z.array(z.string()).max(16).default([]) });
