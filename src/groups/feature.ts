import type { FeatureFactory, HandlerContext } from "../broker/host.ts";

/** Groups are routing labels on the live session; roles are free-form and interpreted by Claude, not here. */
export const groupsFeature: FeatureFactory = ({ peers }) => {
  const changed = (ctx: HandlerContext) => peers.updated(ctx.peer);
  return {
    name: "groups",
    handlers: {
      async join_group(ctx, f) {
        ctx.peer.groups.set(f.name, f.role ?? null);
        ctx.reply({ type: "ok" });
        await changed(ctx);
      },
      async leave_group(ctx, f) {
        ctx.peer.groups.delete(f.name);
        ctx.reply({ type: "ok" });
        await changed(ctx);
      },
    },
  };
};
