import type { FeatureFactory } from "../broker/host.ts";
import type { PeerState } from "../broker/peer.ts";
import type { DashPeer } from "../protocol/activity.ts";
import { ActivityHub } from "./activity.ts";
import { DashboardAuth } from "./auth.ts";
import { type DashboardOptions, dashboardRoutes } from "./http.ts";

/**
 * The human view of a mesh: the page, its login, its JSON API and the live activity stream. It only
 * watches: what it shows comes from the store and from the other features' activity on the bus.
 */
export const dashboardFeature =
  (opts: DashboardOptions): FeatureFactory =>
  (host) => {
    const hub = new ActivityHub(host.activity);
    const auth = new DashboardAuth(() => host.clock.now());
    // A session's member never changes, and a member's name and role are fixed at join.
    const members = new Map<string, { memberName: string; memberRole: string }>();
    const peerView = (p: PeerState) => {
      if (!host.views.peer) throw new Error("no feature shows peers (presence is missing)");
      return host.views.peer(p);
    };
    async function dashPeer(p: PeerState): Promise<DashPeer> {
      let m = members.get(p.memberId);
      if (!m) {
        const row = (await host.auth.members(p.meshId)).find((m) => m.id === p.memberId);
        m = { memberName: row?.displayName ?? "?", memberRole: row?.role ?? "member" };
        if (row) members.set(p.memberId, m);
      }
      return { ...peerView(p), ...m };
    }
    return {
      name: "dashboard",
      routes: dashboardRoutes({ host, hub, auth, dashPeer }, opts),
      async onPeerConnected(peer) {
        hub.record(peer.meshId, { type: "peer_joined", at: host.clock.now(), peer: await dashPeer(peer) });
      },
      onPeerStatusChanged(peer) {
        hub.record(peer.meshId, { type: "peer_status", at: host.clock.now(), presenceId: peer.presenceId, name: peer.displayName, status: peer.status });
      },
      onPeerUpdated(peer) {
        hub.record(peer.meshId, { type: "peer_updated", at: host.clock.now(), peer: peerView(peer) });
      },
      onPeerDisconnected(peer) {
        hub.record(peer.meshId, { type: "peer_left", at: host.clock.now(), presenceId: peer.presenceId, name: peer.displayName });
      },
      stop() {
        hub.stop();
      },
    };
  };
