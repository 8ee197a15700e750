import type { SessionTracker } from "../client/broker-client.ts";

/** The groups a session joined and left are re-declared by its next hello. */
export const groupsTracker: SessionTracker = {
  track(frame, state) {
    if (frame.type === "join_group") state.groups.set(frame.name, frame.role ?? null);
    else if (frame.type === "leave_group") state.groups.delete(frame.name);
  },
};
