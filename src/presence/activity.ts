import type { Bus } from "../broker/bus.ts";
import type { PeerState } from "../broker/peer.ts";
import { ACTIVITY_TOPIC, type ActivityEvent, type MeshActivity, type PeerView } from "../protocol/activity.ts";
import { toPeerView } from "./view.ts";

export function toActivityPeer(p: PeerState): PeerView {
  const { self: _self, ...view } = toPeerView(p, p);
  return view;
}

/** Tells whoever watches the mesh (the dashboard) what just happened; nobody listening costs nothing. */
export function publishActivity(bus: Bus, meshId: string, event: ActivityEvent): void {
  bus.publish(ACTIVITY_TOPIC, { meshId, event } satisfies MeshActivity);
}
