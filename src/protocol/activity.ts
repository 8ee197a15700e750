// The union of every feature's activity events, as protocol/frames.ts is of their frames: it ranks with
// it, above the feature frames it is built from.
import { z } from "zod";
import { FileInfo } from "../files/api.ts";
import { Memory } from "../memory/frames.ts";
import { Peer } from "../presence/frames.ts";
import { StateEntry } from "../state/frames.ts";
import { Priority } from "../messaging/frames.ts";
import { Status } from "./common.ts";

/** A live session as anyone watching the mesh sees it (list_peers' view without `self`). */
export const PeerView = Peer.omit({ self: true });
export type PeerView = z.infer<typeof PeerView>;
/** A live session as the dashboard shows it: the peer view plus which member it speaks for. */
export const DashPeer = PeerView.extend({ memberName: z.string(), memberRole: z.string() });
export type DashPeer = z.infer<typeof DashPeer>;

const at = { at: z.number() };

/**
 * What the broker can see happen in a mesh, pushed to the dashboard as server-sent events.
 * Never message content: the broker holds ciphertext only, and reports counts by priority.
 */
export const ActivityEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("peer_joined"), ...at, peer: DashPeer }),
  /** summary or groups changed (the member behind a session never changes) */
  z.object({ type: z.literal("peer_updated"), ...at, peer: PeerView }),
  z.object({ type: z.literal("peer_status"), ...at, presenceId: z.string(), name: z.string(), status: Status }),
  z.object({ type: z.literal("peer_left"), ...at, presenceId: z.string(), name: z.string() }),
  z.object({ type: z.literal("state_changed"), ...at, entry: StateEntry }),
  z.object({ type: z.literal("memory_stored"), ...at, memory: Memory }),
  z.object({ type: z.literal("memory_forgotten"), ...at, memoryId: z.string(), by: z.string() }),
  /** shared files only: an attachment is its recipients' business */
  z.object({ type: z.literal("file_shared"), ...at, file: FileInfo }),
  z.object({ type: z.literal("file_deleted"), ...at, fileId: z.string(), name: z.string(), by: z.string() }),
  z.object({ type: z.literal("message_sent"), ...at, presenceId: z.string(), name: z.string(), priority: Priority, recipients: z.number() }),
]);
export type ActivityEvent = z.infer<typeof ActivityEvent>;
