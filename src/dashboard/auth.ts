import { newSecret, sha256Hex } from "../util/ids.ts";

/** Who a dashboard login speaks for: one member of one mesh. */
export interface DashIdentity {
  meshId: string;
  meshSlug: string;
  memberId: string;
  memberName: string;
  memberRole: string;
}

interface Grant extends DashIdentity {
  expiresAt: number;
}

export const LOGIN_TOKEN_TTL_MS = 5 * 60_000;
export const SESSION_TTL_MS = 12 * 3600_000;
export const COOKIE_NAME = "claudemesh_dashboard";

/**
 * One-time login tokens and the browser sessions they open, in memory: both are short-lived and a
 * broker restart simply asks the human to run `claudemesh dashboard` again. Only hashes are kept as keys,
 * so a heap dump does not hand out live cookies.
 */
export class DashboardAuth {
  private readonly loginTokens = new Map<string, Grant>();
  private readonly sessions = new Map<string, Grant>();

  constructor(private readonly now: () => number = Date.now) {}

  issueLoginToken(who: DashIdentity): { token: string; expiresAt: number } {
    this.prune();
    const token = newSecret();
    const expiresAt = this.now() + LOGIN_TOKEN_TTL_MS;
    this.loginTokens.set(sha256Hex(token), { ...who, expiresAt });
    return { token, expiresAt };
  }

  /** Single use: the token is gone whether or not it was still valid. */
  redeem(token: string): { cookie: string; identity: DashIdentity; expiresAt: number } | null {
    const key = sha256Hex(token);
    const grant = this.loginTokens.get(key);
    this.loginTokens.delete(key);
    if (!grant || grant.expiresAt <= this.now()) return null;
    const cookie = newSecret();
    const expiresAt = this.now() + SESSION_TTL_MS;
    const { expiresAt: _t, ...identity } = grant;
    this.sessions.set(sha256Hex(cookie), { ...identity, expiresAt });
    return { cookie, identity, expiresAt };
  }

  session(cookie: string | null | undefined): DashIdentity | null {
    if (!cookie) return null;
    const key = sha256Hex(cookie);
    const s = this.sessions.get(key);
    if (!s) return null;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return null;
    }
    const { expiresAt: _t, ...identity } = s;
    return identity;
  }

  logout(cookie: string | null | undefined): void {
    if (cookie) this.sessions.delete(sha256Hex(cookie));
  }

  /** Ends every dashboard session of a member (after revocation). */
  endMember(memberId: string): void {
    for (const [k, s] of this.sessions) if (s.memberId === memberId) this.sessions.delete(k);
  }

  private prune(): void {
    const now = this.now();
    for (const [k, g] of this.loginTokens) if (g.expiresAt <= now) this.loginTokens.delete(k);
    for (const [k, g] of this.sessions) if (g.expiresAt <= now) this.sessions.delete(k);
  }
}
