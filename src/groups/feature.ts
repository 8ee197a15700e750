import type { FeatureFactory } from "../broker/host.ts";

/** Groups are routing labels on the live session; roles are free-form and interpreted by Claude, not here. */
export const groupsFeature: FeatureFactory = () => ({
  name: "groups",
  handlers: {
    join_group(ctx, f) {
      ctx.peer.groups.set(f.name, f.role ?? null);
      ctx.reply({ type: "ok" });
    },
    leave_group(ctx, f) {
      ctx.peer.groups.delete(f.name);
      ctx.reply({ type: "ok" });
    },
  },
});
