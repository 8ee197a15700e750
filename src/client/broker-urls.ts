/**
 * The broker URLs one session tries, in turn: its mesh's first URL (the one it joined through), then the
 * others in an order drawn per session, so the sessions of a dead node spread over the survivors instead
 * of all landing on the next one. A pinned session has one URL and never leaves it.
 */
export class BrokerRotation {
  private urls: string[];
  private i = 0;

  constructor(
    urls: readonly string[],
    readonly pinned: boolean,
    private readonly random: () => number = Math.random,
  ) {
    if (urls.length === 0) throw new Error("a session needs at least one broker URL");
    this.urls = this.order(urls);
  }

  get current(): string {
    return this.urls[this.i] as string;
  }

  /** Every URL, in the order tried. */
  get all(): readonly string[] {
    return this.urls;
  }

  /** The try at the current URL failed: the next one is tried next. */
  advance(): void {
    this.i = (this.i + 1) % this.urls.length;
  }

  /**
   * A broker named the mesh's live URLs (hello_ack): they replace the list, the connected URL stays
   * current. A pinned session keeps its one URL.
   */
  update(urls: readonly string[]): void {
    if (this.pinned || urls.length === 0) return;
    const same = urls.length === this.urls.length && urls.every((u) => this.urls.includes(u));
    if (same) return;
    const current = this.current;
    this.urls = this.order(urls);
    this.i = Math.max(0, this.urls.indexOf(current));
  }

  private order(urls: readonly string[]): string[] {
    const [first, ...rest] = [...new Set(urls)];
    // Fisher-Yates
    for (let j = rest.length - 1; j > 0; j--) {
      const k = Math.floor(this.random() * (j + 1));
      [rest[j], rest[k]] = [rest[k] as string, rest[j] as string];
    }
    return [first as string, ...rest];
  }
}
