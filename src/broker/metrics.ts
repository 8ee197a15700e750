/** One value of a gauge read at scrape time, with its labels. */
export interface GaugeSample {
  value: number;
  labels?: Record<string, string>;
}

/**
 * What the broker counts. The composition root plugs in the Prometheus registry (`metrics/registry.ts`);
 * tests and tools that build a broker without one get the no-op. Names are the exported metric names
 * (`claudemesh_…`, listed in `metrics/registry.ts`); durations are observed in seconds.
 */
export interface Metrics {
  count(name: string, by?: number, labels?: Record<string, string>): void;
  /** A histogram observation (histograms carry no labels). */
  observe(name: string, value: number): void;
  /** A gauge whose values are read when scraped (queue depth, sessions per mesh). */
  gauge(name: string, read: () => GaugeSample[] | Promise<GaugeSample[]>): void;
}

export const noopMetrics: Metrics = { count() {}, observe() {}, gauge() {} };

/** Runs `fn` and observes how long it took, in seconds, under `name`. */
export async function timed<T>(metrics: Metrics, name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    metrics.observe(name, (performance.now() - t) / 1000);
  }
}
