import { z } from "zod";
import type { Cluster, PeerRegistry } from "../broker/host.ts";
import { Connection, type PeerState, type Transport } from "../broker/peer.ts";
import { Status } from "../protocol/common.ts";

// The events between nodes about sessions. Another node is a broker of the same store, but its events are
// still parsed at this boundary like any input.
const UP = "peers.up";
const DOWN = "peers.down";
const HELLO = "peers.hello";
const FRAMES = "peers.frames";

const PeerAnnounce = z.object({
  presenceId: z.string(),
  meshId: z.string(),
  memberId: z.string(),
  memberName: z.string(),
  displayName: z.string(),
  role: z.string().nullable(),
  groups: z.array(z.tuple([z.string(), z.string().nullable()])),
  status: Status,
  summary: z.string().nullable(),
  sessionPubkey: z.string(),
  connectedAt: z.number(),
});
type PeerAnnounce = z.infer<typeof PeerAnnounce>;
const PeerGone = z.object({ presenceId: z.string() });
const Forwarded = z.object({
  items: z.array(
    z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("frame"), to: z.array(z.string()), data: z.string() }),
      z.object({ kind: z.literal("close"), presenceId: z.string(), sessionPubkey: z.string(), code: z.number().int(), reason: z.string() }),
    ]),
  ),
});
type Item = z.infer<typeof Forwarded>["items"][number];

const announce = (p: PeerState): PeerAnnounce => ({
  presenceId: p.presenceId,
  meshId: p.meshId,
  memberId: p.memberId,
  memberName: p.memberName,
  displayName: p.displayName,
  role: p.role,
  groups: [...p.groups],
  status: p.status,
  summary: p.summary,
  sessionPubkey: p.sessionPubkey,
  connectedAt: p.connectedAt,
});

/**
 * The sessions of the other nodes, mirrored into this node's peer registry so `peersOf` is mesh-wide:
 * each node announces its own sessions (joins, changes, leaves) to the others, and a remote session's
 * `conn` forwards frames and closes to its node, in the order they were sent. A node that starts says
 * hello: the others forget what they knew of its previous run and announce theirs to it.
 */
export class PeerMirror {
  /** frames and closes for other nodes' sessions, sent once per turn and node */
  private pending = new Map<string, Item[]>();
  private scheduled = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly peers: PeerRegistry,
  ) {
    cluster.subscribe(UP, (payload, from) => this.adopt(PeerAnnounce.parse(payload), from));
    cluster.subscribe(DOWN, (payload) => this.peers.drop(PeerGone.parse(payload).presenceId));
    cluster.subscribe(HELLO, (_payload, from) => {
      this.forgetNode(from);
      for (const p of this.peers.localSessions()) cluster.send(from, UP, announce(p));
    });
    cluster.subscribe(FRAMES, (payload) => void this.deliver(Forwarded.parse(payload).items));
  }

  /** Once linked (and again after this node was declared dead while stalled): forget me, and here is mine. */
  hello(): void {
    this.cluster.publish(HELLO, {});
    for (const p of this.peers.localSessions()) this.cluster.publish(UP, announce(p));
  }

  /** A session of this node joined or changed. */
  up(peer: PeerState): void {
    if (peer.nodeId === undefined) this.cluster.publish(UP, announce(peer));
  }

  down(peer: PeerState): void {
    if (peer.nodeId === undefined) this.cluster.publish(DOWN, { presenceId: peer.presenceId });
  }

  /** Every session of a node that died or restarted is gone. */
  forgetNode(nodeId: string): void {
    for (const p of this.peers.remotes(nodeId)) this.peers.drop(p.presenceId);
  }

  /** Forgets the sessions of nodes no longer live. */
  keepNodes(live: Set<string>): void {
    for (const p of this.peers.remotes()) if (p.nodeId !== undefined && !live.has(p.nodeId)) this.peers.drop(p.presenceId);
  }

  private adopt(a: PeerAnnounce, nodeId: string): void {
    const known = this.peers.remotes(nodeId, a.sessionPubkey).find((p) => p.presenceId === a.presenceId);
    if (known) {
      // in place: whoever holds the session (a send being routed) sees the change
      Object.assign(known, { ...a, groups: new Map(a.groups) });
      return;
    }
    // A session this node holds itself moved here after that node announced it: this one is current.
    const local = this.peers.session(a.sessionPubkey);
    if (local && local.connectedAt > a.connectedAt) return;
    // The session moved from a node that has not said goodbye (it may be dead): the newer run wins.
    for (const p of this.peers.remotes(undefined, a.sessionPubkey)) {
      if (p.connectedAt > a.connectedAt) return;
      this.peers.drop(p.presenceId);
    }
    const transport: Transport = {
      send: (data) => this.forward(nodeId, { kind: "frame", to: [a.sessionPubkey], data }),
      close: (code, reason) => this.forward(nodeId, { kind: "close", presenceId: a.presenceId, sessionPubkey: a.sessionPubkey, code, reason }),
      ping: () => {},
    };
    this.peers.adopt({ ...a, groups: new Map(a.groups), nodeId, conn: new Connection(transport, 1, 1) });
  }

  private forward(nodeId: string, item: Item): void {
    let items = this.pending.get(nodeId);
    if (!items) this.pending.set(nodeId, (items = []));
    const last = items.at(-1);
    // a broadcast sends one frame to many sessions in a row: one item for all of them
    if (item.kind === "frame" && last?.kind === "frame" && last.data === item.data) last.to.push(...item.to);
    else items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const all = this.pending;
      this.pending = new Map();
      for (const [node, list] of all) this.cluster.send(node, FRAMES, { items: list });
    });
  }

  private async deliver(items: Item[]): Promise<void> {
    for (const item of items) {
      if (item.kind === "frame") {
        for (const key of item.to) {
          const p = this.peers.session(key);
          if (p && p.nodeId === undefined) p.conn.sendText(item.data);
        }
      } else {
        const p = this.peers.session(item.sessionPubkey);
        // only the run of the session it was meant for (it may have reconnected since)
        if (p && p.presenceId === item.presenceId) await this.peers.disconnect(p, item.code, item.reason);
      }
    }
  }
}
