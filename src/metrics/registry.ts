import { readdir } from "node:fs/promises";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { GaugeSample, Metrics } from "../broker/metrics.ts";

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Every metric the broker exports, declared once: a name the code counts under that is not here is a
 * bug, and fails loudly in tests rather than vanishing from the scrape.
 */
const COUNTERS: Record<string, { help: string; labelNames: string[] }> = {
  claudemesh_frames_total: { help: "Client frames received, by type (invalid: did not parse)", labelNames: ["type"] },
  claudemesh_hellos_total: { help: "Hellos, by outcome: accepted, or the error code they were refused with", labelNames: ["outcome"] },
  claudemesh_messages_total: { help: "send frames, by priority and outcome (stored, duplicate, or the error code)", labelNames: ["priority", "outcome"] },
  claudemesh_pushes_total: { help: "Messages pushed to sessions", labelNames: [] },
  claudemesh_disconnects_total: { help: "Sessions that ended", labelNames: [] },
};

// Histograms carry no labels: one histogram per thing timed keeps every scraper's (and parser's) view simple.
const HISTOGRAMS: Record<string, { help: string; buckets: number[] }> = {
  claudemesh_push_latency_seconds: {
    help: "From a `now` send frame's dispatch until its pushes are written to every connected recipient's socket",
    buckets: LATENCY_BUCKETS,
  },
  claudemesh_db_commit_seconds: {
    help: "One shared write transaction (message inserts, receipts) until committed (on SQLite, before its WAL sync)",
    buckets: LATENCY_BUCKETS,
  },
  claudemesh_db_checkpoint_seconds: {
    help: "One WAL checkpoint on SQLite, run by the store's worker thread off the event loop",
    buckets: LATENCY_BUCKETS,
  },
  claudemesh_db_queue_read_seconds: { help: "Reading one session's queue before a push", buckets: LATENCY_BUCKETS },
  claudemesh_commit_batch_size: {
    help: "Jobs per shared write transaction (a batch of messages, a batch of receipts)",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  },
};

const GAUGES: Record<string, { help: string; labelNames: string[] }> = {
  claudemesh_connections: { help: "Open WebSocket connections, authenticated or not", labelNames: [] },
  claudemesh_sessions: { help: "Authenticated sessions, by mesh id", labelNames: ["mesh"] },
  claudemesh_queue_depth: { help: "Recipient rows still queued (stored, not yet delivered)", labelNames: [] },
};

const OPEN_FDS = "process_open_fds";
const HEAP_SPACE_METRICS = ["nodejs_heap_space_size_total_bytes", "nodejs_heap_space_size_used_bytes", "nodejs_heap_space_size_available_bytes"];

/** The Prometheus registry behind the broker's `Metrics`, with the runtime's own (RSS, event-loop lag, heap). */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    // Under Bun, v8.getHeapSpaceStatistics() walks the whole heap on the event loop: ~100 ms for a heap of a
    // million objects, so every scrape froze every session's pushes (measured in the bench). The heap's
    // size and use stay (nodejs_heap_size_*: process.memoryUsage(), ~0.05 ms); its per-space split goes.
    for (const name of HEAP_SPACE_METRICS) this.registry.removeSingleMetric(name);
    // prom-client counts open descriptors with readdirSync("/proc/self/fd"): ~9 ms on the event loop at
    // 10,000 sockets, every scrape. The same figure, read off the loop (Bun's thread pool).
    if (this.registry.getSingleMetric(OPEN_FDS)) {
      this.registry.removeSingleMetric(OPEN_FDS);
      new Gauge({
        name: OPEN_FDS,
        help: "Number of open file descriptors.",
        registers: [this.registry],
        async collect() {
          this.set((await readdir("/proc/self/fd")).length);
        },
      });
    }
    for (const [name, c] of Object.entries(COUNTERS)) this.counters.set(name, new Counter({ name, ...c, registers: [this.registry] }));
    for (const [name, h] of Object.entries(HISTOGRAMS)) this.histograms.set(name, new Histogram({ name, ...h, registers: [this.registry] }));
  }

  count(name: string, by = 1, labels?: Record<string, string>): void {
    const c = this.counters.get(name);
    if (!c) throw new Error(`undeclared counter ${name}`);
    if (labels) c.inc(labels, by);
    else c.inc(by);
  }

  observe(name: string, value: number): void {
    const h = this.histograms.get(name);
    if (!h) throw new Error(`undeclared histogram ${name}`);
    h.observe(value);
  }

  gauge(name: string, read: () => GaugeSample[] | Promise<GaugeSample[]>): void {
    const g = GAUGES[name];
    if (!g) throw new Error(`undeclared gauge ${name}`);
    new Gauge({
      name,
      ...g,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of await read()) {
          if (s.labels) this.set(s.labels, s.value);
          else this.set(s.value);
        }
      },
    });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
