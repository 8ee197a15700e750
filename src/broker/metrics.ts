/** What the broker counts; a no-op until a real backend (#13) is plugged in at the composition root. */
export interface Metrics {
  count(name: string, by?: number, labels?: Record<string, string>): void;
  observe(name: string, value: number, labels?: Record<string, string>): void;
}

export const noopMetrics: Metrics = { count() {}, observe() {} };
