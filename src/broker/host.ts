import type { DownloadTicket, FileInfo, FileListing } from "../files/api.ts";
import type { Memory } from "../memory/frames.ts";
import type { ActivityEvent, PeerView } from "../protocol/activity.ts";
import type { WireError } from "../protocol/wire-error.ts";
import type { StateEntry } from "../state/frames.ts";
import type { ClientFrameOf, ClientFrameType, ServerFrame } from "../protocol/frames.ts";
import type { Store } from "../store/db.ts";
import type { Migration } from "../store/migration.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { Bus } from "./bus.ts";
import type { BrokerLimits } from "./config.ts";
import type { Metrics } from "./metrics.ts";
import type { Connection, PeerState } from "./peer.ts";

/** A bearer token's grant: which live session an HTTP request speaks for. */
export interface BearerGrant {
  meshId: string;
  memberId: string;
  presenceId: string;
  sessionPubkey: string;
  expiresAt: number;
}

/** A member as other features may see it. */
export interface MemberIdentity {
  id: string;
  meshId: string;
  displayName: string;
  role: string;
  revokedAt: number | null;
}

/**
 * Who a request speaks for, and the mesh directory other features' routes need; provided by the feature
 * that owns meshes, members and tokens (meshes), so no feature imports another.
 */
export interface MeshAccess {
  /** Resolves a session bearer token from hello_ack; null when unknown or expired. */
  grant(token: string): BearerGrant | null;
  /** The operator's admin token. */
  isAdmin(req: Request): boolean;
  /** The member a signed request speaks for, verified; null when unsigned; a WireError when the signature is bad. */
  signedMember(req: Request, bodyText: string): Promise<MemberIdentity | null>;
  mesh(meshId: string): Promise<{ id: string; slug: string } | null>;
  members(meshId: string): Promise<MemberIdentity[]>;
}

/** The live sessions; the only way features see other peers, and always scoped to one mesh. */
export interface PeerRegistry {
  peersOf(meshId: string): PeerState[];
  /** The sessions of a mesh (on every node) that go by this display name: no scan of the mesh. */
  named(meshId: string, displayName: string): PeerState[];
  session(sessionPubkey: string): PeerState | undefined;
  /** How many sessions this broker holds, over every mesh. */
  sessionCount(): number;
  /** Sends to every connected session of a mesh except `except`. */
  broadcast(meshId: string, frame: ServerFrame, except?: PeerState): void;
  /** Disconnects every live session of a member (after revocation); resolves with how many. */
  disconnectMember(memberId: string): Promise<number>;
  /** Registers an authenticated session; a reconnect with the same session key replaces the old socket. */
  register(peer: PeerState): Promise<void>;
  /** Tells every feature that a registered session is ready (after its hello_ack went out). */
  connected(peer: PeerState): Promise<void>;
  /** Tells every feature that a session's status changed. */
  statusChanged(peer: PeerState): Promise<void>;
  /** Tells every feature that a session's summary or groups changed. */
  updated(peer: PeerState): Promise<void>;
  /** Open sockets and live sessions per mesh, for operators' metrics (never shown to a mesh). */
  counts(): { connections: number; sessionsByMesh: Map<string, number> };
  /** Closes one session of this node (a frame of another node asked for it); the socket's close follows. */
  disconnect(peer: PeerState, code: number, reason: string): Promise<void>;
  /**
   * A session of another broker node, as that node announced it: it joins `peersOf`, so routing and
   * broadcasts reach it (its `conn` forwards to its node). Replaces the entry with the same presence id.
   */
  adopt(peer: PeerState): void;
  /** Forgets another node's session (it left, or its node died); unknown ids are ignored. */
  drop(presenceId: string): void;
  /** This node's own sessions, over every mesh. */
  localSessions(): PeerState[];
  /** Other nodes' sessions: all of them, or those of one node, or those with one session key. */
  remotes(nodeId?: string, sessionPubkey?: string): PeerState[];
}

/**
 * The other broker nodes on this store (Postgres), for features whose work crosses them: an event sent
 * reaches the listeners of its topic on the other node, in the order this node sent it, at least once a
 * wake-up was missed. On one node (SQLite) there is nobody to reach: sends go nowhere.
 */
export interface Cluster {
  /** To one node. */
  send(nodeId: string, topic: string, payload: unknown): void;
  /** To every other live node. */
  publish(topic: string, payload: unknown): void;
  /** The other live nodes (none on one node). */
  otherNodes(): string[];
  /** `from` is the sending node. */
  subscribe(topic: string, listener: (payload: unknown, from: string) => void): () => void;
}

/**
 * What the broker can see happen in a mesh, for whoever watches it (the dashboard): features publish,
 * watchers subscribe, and nobody listening costs nothing. Never message content.
 */
export interface ActivityFeed {
  publish(meshId: string, event: ActivityEvent): void;
  subscribe(listener: (meshId: string, event: ActivityEvent) => void): () => void;
}

/**
 * What features show a human of a mesh (the dashboard), each part registered by the feature that owns
 * the data (`Feature.views`), so the one showing it imports none of them. A part nobody registered is
 * absent.
 */
export interface MeshViews {
  /** A live session as anyone watching the mesh sees it (presence). */
  peer(p: PeerState): PeerView;
  /** Every state key of a mesh (state). */
  stateEntries(meshId: string): Promise<StateEntry[]>;
  /** Ranked full-text search; a blank query lists the newest (memory). Bad tags are a WireError. */
  searchMemory(meshId: string, query: { q: string; tags: string[]; limit: number }): Promise<Memory[]>;
  /** Forgets a memory on behalf of `by` (a name for the timeline); false when there is none to forget. */
  forgetMemory(meshId: string, memoryId: string, by: string): Promise<boolean>;
  /** The files a member may read, newest first, with download counts (files). */
  listFiles(viewer: Viewer): Promise<FileListing[]>;
  /** Access checked, a short-lived download URL (a path on the broker, or presigned S3). */
  fileDownload(viewer: Viewer, fileId: string): Promise<DownloadTicket>;
  /** The uploader or a mesh owner/admin; a WireError otherwise. */
  deleteFile(viewer: Viewer, fileId: string): Promise<void>;
  /** A file shared with the whole mesh, streamed from `body`; limits and quota as for `POST /upload`. */
  shareFile(viewer: Viewer, input: { name: string; tags?: string; contentLength: number | null; body: ReadableStream<Uint8Array> | null }): Promise<FileInfo>;
}

/** A member looking at the mesh through the dashboard (no live session of its own). */
export interface Viewer {
  meshId: string;
  memberId: string;
  name: string;
}

/** Everything a feature may use. Features never see the broker core, the transport or each other. */
export interface FeatureHost {
  store: Store;
  clock: Clock;
  limits: BrokerLimits;
  log: Logger;
  metrics: Metrics;
  bus: Bus;
  peers: PeerRegistry;
  /** Session bearer tokens, member signatures and the mesh directory, for HTTP routes. */
  auth: MeshAccess;
  activity: ActivityFeed;
  /** The other broker nodes (provided by the nodes feature; on one node, a cluster of one). */
  cluster: Cluster;
  /** Filled as features register; read it when a request comes, not at construction. */
  views: Partial<MeshViews>;
}

export interface HandlerContext {
  conn: Connection;
  /** The authenticated session; handlers other than a feature's `unauthenticated` ones only run once it is set. */
  peer: PeerState;
  /** Sends a response frame carrying the request's id. */
  reply(frame: ServerFrame): void;
  /** Over a budget: sends the error (with its retry hint) and closes the connection. */
  refuse(err: WireError): void;
}

export type Handler<T extends ClientFrameType> = (ctx: HandlerContext, frame: ClientFrameOf<T>) => Promise<void> | void;
export type HandlerMap = { [T in ClientFrameType]?: Handler<T> };

export type RouteRequest = Request & { params: Record<string, string> };
export type RouteHandler = (req: RouteRequest) => Promise<Response> | Response;
/** HTTP routes in `Bun.serve` shape: `{ "/path/:p": { GET: handler } }`. */
export type Routes = Record<string, Partial<Record<"GET" | "POST" | "PUT" | "DELETE" | "PATCH", RouteHandler>>>;

/** A vertical slice of the broker: frames, routes, schema and hooks into the session lifecycle. */
export interface Feature {
  name: string;
  migrations?: Migration[];
  handlers?: HandlerMap;
  /** Frame types accepted before a session exists (they must establish it, like hello). */
  unauthenticated?: ClientFrameType[];
  routes?: Routes;
  /** Set by the one feature that owns meshes and tokens. */
  auth?: MeshAccess;
  /** Set by the one feature that links broker nodes. */
  cluster?: Cluster;
  /** This feature's parts of the human view; two features never register the same part. */
  views?: Partial<MeshViews>;
  /** Once the store is migrated, before the first connection. */
  start?(): Promise<void> | void;
  /** After hello_ack was sent. */
  onPeerConnected?(peer: PeerState): Promise<void> | void;
  onPeerStatusChanged?(peer: PeerState): Promise<void> | void;
  onPeerUpdated?(peer: PeerState): Promise<void> | void;
  onPeerDisconnected?(peer: PeerState): Promise<void> | void;
  /** Periodic housekeeping (expiry and the like). */
  sweep?(): Promise<void>;
  stop?(): Promise<void> | void;
}

export type FeatureFactory = (host: FeatureHost) => Feature;
