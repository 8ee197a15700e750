import type { BrokerClient } from "../client/broker-client.ts";
import type { Peer } from "../presence/frames.ts";

/** list_peers cached for 30 s (spec section 9): name → sessions for encryption, refreshed on a miss. */
export class PeerCache {
  private peers: Peer[] = [];
  private fetchedAt = 0;
  private inflight: Promise<Peer[]> | null = null;

  constructor(
    private readonly client: Pick<BrokerClient, "request">,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async all(force = false): Promise<Peer[]> {
    if (!force && this.now() - this.fetchedAt < this.ttlMs) return this.peers;
    this.inflight ??= this.client
      .request({ type: "list_peers" }, "peers_list")
      .then((r) => {
        this.peers = r.peers;
        this.fetchedAt = this.now();
        return r.peers;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }

  invalidate(): void {
    this.fetchedAt = 0;
  }

  async sessionsNamed(name: string, force = false): Promise<Peer[]> {
    return (await this.all(force)).filter((p) => p.name === name);
  }
}
