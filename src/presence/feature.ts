import type { FeatureFactory } from "../broker/feature.ts";
import { toPeerView } from "../broker/peer.ts";

export const presenceFeature: FeatureFactory = (broker) => ({
  name: "presence",
  handlers: {
    list_peers(ctx, f) {
      const peers = broker
        .peersOf(ctx.peer.meshId)
        .filter((p) => f.group === undefined || p.groups.has(f.group))
        .sort((a, b) => a.connectedAt - b.connectedAt)
        .map((p) => toPeerView(p, ctx.peer));
      ctx.reply({ type: "peers_list", peers });
    },
    async set_status(ctx, f) {
      const changed = ctx.peer.status !== f.status;
      ctx.peer.status = f.status;
      ctx.reply({ type: "ok" });
      if (changed) await broker.statusChanged(ctx.peer);
    },
    set_summary(ctx, f) {
      ctx.peer.summary = f.summary.trim() || null;
      ctx.reply({ type: "ok" });
    },
  },
});
