import parse, { type Family, type Sample } from "parse-prometheus-text-format";

/** A scrape of /metrics, parsed by a Prometheus text-format parser, with lookups by name and labels. */
export class Scrape {
  readonly families: Map<string, Family>;

  constructor(text: string) {
    this.families = new Map(parse(text).map((f) => [f.name, f]));
  }

  private sample(name: string, labels: Record<string, string> = {}): Sample | undefined {
    return this.families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  }

  /** A counter's or gauge's value (0 when the series has not been touched yet). */
  value(name: string, labels?: Record<string, string>): number {
    return Number(this.sample(name, labels)?.value ?? 0);
  }

  /** A histogram's observation count. */
  count(name: string, labels?: Record<string, string>): number {
    return Number(this.sample(name, labels)?.count ?? 0);
  }
}
