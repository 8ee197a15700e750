import type { FeatureFactory } from "../broker/host.ts";
import { toPeerView } from "./view.ts";

export const presenceFeature: FeatureFactory = ({ peers }) => ({
  name: "presence",
  views: {
    peer(p) {
      const { self: _self, ...view } = toPeerView(p, p);
      return view;
    },
  },
  handlers: {
    list_peers(ctx, f) {
      const list = peers
        .peersOf(ctx.peer.meshId)
        .filter((p) => f.group === undefined || p.groups.has(f.group))
        .sort((a, b) => a.connectedAt - b.connectedAt)
        .map((p) => toPeerView(p, ctx.peer));
      ctx.reply({ type: "peers_list", peers: list });
    },
    async set_status(ctx, f) {
      const changed = ctx.peer.status !== f.status;
      ctx.peer.status = f.status;
      ctx.reply({ type: "ok" });
      if (changed) await peers.statusChanged(ctx.peer);
    },
    async set_summary(ctx, f) {
      ctx.peer.summary = f.summary.trim() || null;
      ctx.reply({ type: "ok" });
      await peers.updated(ctx.peer);
    },
  },
});
