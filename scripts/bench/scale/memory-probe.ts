/**
 * The bench's memory sample of a target process: on SIGUSR2 it collects garbage in full and prints one JSON
 * line, `{"memory": {rss, heap}}`. Sampled before and after a stage of sessions connects, the difference
 * is what those sessions hold, not what the run before them left for the collector.
 */
import { heapStats } from "bun:jsc";

export function installMemoryProbe(): void {
  process.on("SIGUSR2", () => {
    Bun.gc(true);
    console.log(JSON.stringify({ memory: { rss: process.memoryUsage().rss, heap: heapStats().heapSize } }));
  });
}
