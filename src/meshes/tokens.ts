import type { BearerGrant } from "../broker/host.ts";
import type { PeerState } from "../broker/peer.ts";
import type { Clock } from "../util/clock.ts";
import { newSecret } from "../util/ids.ts";

/** Session bearer tokens handed out in hello_ack; they die with their session or after `ttlMs`. */
export class TokenBook {
  private readonly tokens = new Map<string, BearerGrant>();
  /** presence id → its token: a disconnect revokes in O(1), not by scanning every grant (O(N²) over a storm) */
  private readonly bySession = new Map<string, string>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  issue(peer: PeerState): { token: string; expiresAt: number } {
    const token = newSecret();
    const expiresAt = this.clock.now() + this.ttlMs;
    this.tokens.set(token, {
      meshId: peer.meshId,
      memberId: peer.memberId,
      presenceId: peer.presenceId,
      sessionPubkey: peer.sessionPubkey,
      expiresAt,
    });
    this.bySession.set(peer.presenceId, token);
    return { token, expiresAt };
  }

  /** Resolves a bearer token from an HTTP request; expired tokens are forgotten. */
  grant(token: string): BearerGrant | null {
    const g = this.tokens.get(token);
    if (!g) return null;
    if (g.expiresAt <= this.clock.now()) {
      this.tokens.delete(token);
      if (this.bySession.get(g.presenceId) === token) this.bySession.delete(g.presenceId);
      return null;
    }
    return g;
  }

  revokeSession(presenceId: string): void {
    const token = this.bySession.get(presenceId);
    if (token === undefined) return;
    this.bySession.delete(presenceId);
    this.tokens.delete(token);
  }
}
