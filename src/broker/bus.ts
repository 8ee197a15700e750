/**
 * Events between features (and, once #14 lands, between broker nodes). The in-process bus delivers
 * synchronously in publish order; a listener that throws never stops the others.
 */
export interface Bus {
  publish(topic: string, payload: unknown): void;
  subscribe(topic: string, listener: (payload: unknown) => void): () => void;
}

export class InProcessBus implements Bus {
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  publish(topic: string, payload: unknown): void {
    for (const l of [...(this.listeners.get(topic) ?? [])]) {
      try {
        l(payload);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  subscribe(topic: string, listener: (payload: unknown) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }
}
