import type { SessionTracker } from "../client/broker-client.ts";

/** The status rides in the hello; the summary does not, so it is set again right after it. */
export const presenceTracker: SessionTracker = {
  track(frame, state) {
    if (frame.type === "set_status") state.status = frame.status;
    else if (frame.type === "set_summary") state.summary = frame.summary;
  },
  restore: (state) => (state.summary ? [{ type: "set_summary", summary: state.summary }] : []),
};
