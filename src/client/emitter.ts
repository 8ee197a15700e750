/** Minimal typed event emitter; listeners that throw do not break the emitter. */
export class Emitter<E extends Record<string, unknown[]>> {
  private listeners: { [K in keyof E]?: Set<(...a: E[K]) => void> } = {};

  on<K extends keyof E>(event: K, fn: (...a: E[K]) => void): () => void {
    (this.listeners[event] ??= new Set()).add(fn);
    return () => this.listeners[event]?.delete(fn);
  }

  once<K extends keyof E>(event: K): Promise<E[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (...a) => {
        off();
        resolve(a);
      });
    });
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const fn of [...(this.listeners[event] ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        process.stderr.write(`claudemesh: listener for ${String(event)} failed: ${String(err)}\n`);
      }
    }
  }
}
