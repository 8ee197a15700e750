import type { ActivityFeed } from "../broker/host.ts";
import type { ActivityEvent } from "../protocol/activity.ts";
import type { MessageCounts } from "./api.ts";

/** How many recent events each mesh keeps for a freshly opened Activity view. */
export const ACTIVITY_HISTORY = 200;

interface MeshWatch {
  recent: ActivityEvent[];
  /** messages sent per live session since it connected (or the broker started) */
  counts: Map<string, MessageCounts>;
  listeners: Set<(e: ActivityEvent) => void>;
}

/**
 * Activity per mesh, fed by host.activity and the dashboard's lifecycle hooks, kept in memory (a restart starts
 * an empty timeline) and fanned out to the browsers watching that mesh only.
 */
export class ActivityHub {
  private readonly meshes = new Map<string, MeshWatch>();
  private readonly unsubscribe: () => void;

  constructor(feed: ActivityFeed) {
    this.unsubscribe = feed.subscribe((meshId, event) => this.record(meshId, event));
  }

  private watch(meshId: string): MeshWatch {
    let w = this.meshes.get(meshId);
    if (!w) this.meshes.set(meshId, (w = { recent: [], counts: new Map(), listeners: new Set() }));
    return w;
  }

  record(meshId: string, event: ActivityEvent): void {
    const w = this.watch(meshId);
    if (event.type === "message_sent") {
      let c = w.counts.get(event.presenceId);
      if (!c) w.counts.set(event.presenceId, (c = { presenceId: event.presenceId, name: event.name, now: 0, next: 0, low: 0 }));
      c[event.priority]++;
    }
    if (event.type === "peer_left") w.counts.delete(event.presenceId);
    w.recent.push(event);
    if (w.recent.length > ACTIVITY_HISTORY) w.recent.splice(0, w.recent.length - ACTIVITY_HISTORY);
    for (const l of [...w.listeners]) l(event);
  }

  recent(meshId: string): { events: ActivityEvent[]; counts: MessageCounts[] } {
    const w = this.meshes.get(meshId);
    return { events: [...(w?.recent ?? [])], counts: [...(w?.counts.values() ?? [])] };
  }

  /** Live events of one mesh; returns the unsubscribe. */
  listen(meshId: string, fn: (e: ActivityEvent) => void): () => void {
    const w = this.watch(meshId);
    w.listeners.add(fn);
    return () => void w.listeners.delete(fn);
  }

  stop(): void {
    this.unsubscribe();
  }
}
