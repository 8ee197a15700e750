import type { FeatureFactory, HandlerContext } from "../broker/host.ts";
import { publishActivity, toActivityPeer } from "../presence/activity.ts";

/** Groups are routing labels on the live session; roles are free-form and interpreted by Claude, not here. */
export const groupsFeature: FeatureFactory = ({ bus, clock }) => {
  const changed = (ctx: HandlerContext) => publishActivity(bus, ctx.peer.meshId, { type: "peer_updated", at: clock.now(), peer: toActivityPeer(ctx.peer) });
  return {
    name: "groups",
    handlers: {
      join_group(ctx, f) {
        ctx.peer.groups.set(f.name, f.role ?? null);
        ctx.reply({ type: "ok" });
        changed(ctx);
      },
      leave_group(ctx, f) {
        ctx.peer.groups.delete(f.name);
        ctx.reply({ type: "ok" });
        changed(ctx);
      },
    },
  };
};
