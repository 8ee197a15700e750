import type { FeatureFactory } from "../broker/host.ts";
import { reply } from "../broker/http.ts";
import { WireError } from "../protocol/wire-error.ts";
import { HealthResponse, NODE_DEAD, NODES_LIVE, type NodeInfo, NodesResponse } from "./api.ts";
import { NodeDirectory, type NodeSelf, type NodeTiming } from "./directory.ts";
import { NodeLink } from "./link.ts";
import { PeerMirror } from "./mirror.ts";
import { nodeEventsMigration, nodesMigration } from "./schema.ts";

export interface Nodes {
  feature: FeatureFactory;
  /** Writes a heartbeat now: once the node listens and knows its public URL. */
  announce(): Promise<void>;
}

/**
 * This process as a broker node: registered in the store with a heartbeat, the survivor that notices a
 * dead node tells the other features (`NODE_DEAD` on the bus), `/healthz` names the node and the live
 * ones, and `/admin/nodes` lists them all for the operator. On Postgres it links the nodes (`host.cluster`)
 * and mirrors the other nodes' sessions into this one's peer registry, so a mesh is one mesh across nodes.
 */
export function nodesFeature(opts: { self: NodeSelf; timing: NodeTiming; version: string }): Nodes {
  /** set once the broker has built the feature */
  let beating: (() => Promise<void>) | null = null;
  const feature: FeatureFactory = (host) => {
    const directory = new NodeDirectory(host.store, host.clock, opts.self, opts.timing, () => host.peers.sessionCount());
    const link = new NodeLink(host.store, opts.self.id, host.clock, host.log, opts.timing.heartbeatMs);
    const mirror = new PeerMirror(link, host.peers);
    // refreshed by every heartbeat, so /healthz (polled by load balancers) never waits on the store
    let live: NodeInfo[] = [];
    const refresh = async () => {
      live = (await directory.list()).filter((n) => n.alive);
      const ids = new Set(live.map((n) => n.id));
      link.setLive(ids);
      mirror.keepNodes(ids);
      host.bus.publish(NODES_LIVE, { urls: live.map((n) => n.url) });
    };
    const beat = async () => {
      const { dead, wasDeclaredDead } = await directory.beat();
      for (const nodeId of dead) {
        host.log.info("broker node declared dead: no heartbeat", { node: nodeId, afterMs: opts.timing.deadAfterMs });
        mirror.forgetNode(nodeId);
        await link.forget(nodeId);
        host.bus.publish(NODE_DEAD, { nodeId });
      }
      await refresh();
      if (wasDeclaredDead) {
        host.log.warn("this node was declared dead while it stalled; its sessions' presence rows were closed by another node");
        mirror.hello();
      }
    };
    beating = beat;
    let timer: ReturnType<typeof setInterval> | undefined;
    return {
      name: "nodes",
      migrations: [nodesMigration, nodeEventsMigration],
      cluster: link,
      async start() {
        await directory.claim();
        await refresh();
        await link.start();
        mirror.hello();
        timer = setInterval(() => void beat().catch((err) => host.log.warn("heartbeat failed", { err: String(err) })), opts.timing.heartbeatMs);
        timer.unref?.();
      },
      routes: {
        "/healthz": {
          GET: () =>
            reply(HealthResponse, {
              ok: true,
              version: opts.version,
              time: host.clock.now(),
              node: { id: opts.self.id, url: opts.self.url },
              // a node that has not yet announced where it listens is nowhere a client could go
              nodes: live.filter((n) => n.url !== "").map((n) => ({ id: n.id, url: n.url })),
            }),
        },
        "/admin/nodes": {
          GET: async (req) => {
            if (!host.auth.isAdmin(req)) throw new WireError("unauthorized", "listing broker nodes needs the broker's admin token", 401);
            return reply(NodesResponse, { nodes: await directory.list() });
          },
        },
      },
      onPeerConnected: (peer) => mirror.up(peer),
      onPeerStatusChanged: (peer) => mirror.up(peer),
      onPeerUpdated: (peer) => mirror.up(peer),
      onPeerDisconnected: (peer) => mirror.down(peer),
      async stop() {
        clearInterval(timer);
        await link.stop();
        await directory.release();
      },
    };
  };
  return {
    feature,
    async announce() {
      if (!beating) throw new Error("the nodes feature has not started");
      await beating();
    },
  };
}
