import { delegationSigningString, verify, verifyAsync } from "../crypto/keys.ts";
import type { z } from "zod";
import { WireError } from "../protocol/wire-error.ts";
import type { Store } from "../store/db.ts";
import { num, numOrNull } from "../store/db.ts";
import { newId } from "../util/ids.ts";
import { MAX_DELEGATION_MS } from "./api.ts";
import type { HelloFrame } from "./frames.ts";
import type { Member } from "./model.ts";

type Hello = z.infer<typeof HelloFrame>;

export interface Delegation {
  id: string;
  meshId: string;
  memberId: string;
  sessionPubkey: string;
  expiresAt: number;
  signature: string;
  createdAt: number;
  revokedAt: number | null;
}

type Row = Record<string, unknown>;
const toDelegation = (r: Row): Delegation => ({
  id: String(r.id),
  meshId: String(r.mesh_id),
  memberId: String(r.member_id),
  sessionPubkey: String(r.session_pubkey),
  expiresAt: num(r.expires_at),
  signature: String(r.signature),
  createdAt: num(r.created_at),
  revokedAt: numOrNull(r.revoked_at),
});

/** The `delegation` table (migration 12): session keys members let speak for them, and their revocation. */
export class DelegationRepo {
  constructor(private readonly store: Store) {}

  async add(d: Omit<Delegation, "id" | "revokedAt">): Promise<Delegation | null> {
    const id = newId("dlg");
    const rows = await this.store.sql`INSERT INTO delegation (id, mesh_id, member_id, session_pubkey, expires_at, signature, created_at)
      VALUES (${id}, ${d.meshId}, ${d.memberId}, ${d.sessionPubkey}, ${d.expiresAt}, ${d.signature}, ${d.createdAt})
      ON CONFLICT DO NOTHING RETURNING *`;
    return rows[0] ? toDelegation(rows[0]) : null;
  }

  async find(memberId: string, sessionPubkey: string): Promise<Delegation | null> {
    const [r] = await this.store.sql`SELECT * FROM delegation WHERE member_id = ${memberId} AND session_pubkey = ${sessionPubkey}`;
    return r ? toDelegation(r) : null;
  }

  /** Revokes every live delegation of a member on a mesh; returns the session keys it ended. */
  async revokeAll(meshId: string, memberId: string, now: number): Promise<string[]> {
    const rows = await this.store.sql`UPDATE delegation SET revoked_at = ${now}
      WHERE mesh_id = ${meshId} AND member_id = ${memberId} AND revoked_at IS NULL AND expires_at > ${now} RETURNING session_pubkey`;
    return rows.map((r: Row) => String(r.session_pubkey));
  }

  /** Expired delegations can never be used again; kept a day so a late hello still hears "expired". */
  async prune(before: number): Promise<void> {
    await this.store.sql`DELETE FROM delegation WHERE expires_at < ${before}`;
  }
}

/** Refuses a delegation the member could not have meant: wrong signature, already past, or too long. */
export function checkNewDelegation(member: Member, d: { sessionPubkey: string; expiresAt: number; signature: string }, now: number): void {
  const signed = delegationSigningString({ meshId: member.meshId, memberId: member.id, sessionPubkey: d.sessionPubkey, expiresAt: d.expiresAt });
  if (!verify(signed, d.signature, member.pubkey)) {
    throw new WireError("bad_delegation", "the delegation's signature does not verify against your member key for this mesh and session key");
  }
  if (d.expiresAt <= now) throw new WireError("delegation_expired", "this delegation has already expired");
  if (d.expiresAt > now + MAX_DELEGATION_MS) {
    throw new WireError("invalid_argument", `a delegation may last at most ${MAX_DELEGATION_MS / 3600_000} h`);
  }
}

/**
 * The member's half of a hello, checked where the member signature is: either the member signed this
 * hello, or it carries a delegation the member signed for this mesh, member and session key. Nothing is
 * read from the store here, so a forger learns nothing about which delegations exist. The signature is
 * checked off the event loop; the caller may start other work before awaiting the verdict.
 */
export async function verifyMemberProof(member: Member, f: Hello, signed: string): Promise<void> {
  if (member.pubkey !== f.pubkey) throw new WireError("bad_member_signature", "hello pubkey is not the member's key");
  if (f.delegation) {
    if (f.signature !== undefined) throw new WireError("bad_delegation", "a delegated hello carries the delegation instead of a member signature, not both");
    const d = delegationSigningString({ meshId: f.meshId, memberId: f.memberId, sessionPubkey: f.sessionPubkey, expiresAt: f.delegation.expiresAt });
    if (!(await verifyAsync(d, f.delegation.signature, member.pubkey))) {
      throw new WireError("bad_delegation", "the delegation does not verify against the member's key for this mesh and session key");
    }
    return;
  }
  if (f.signature === undefined || !(await verifyAsync(signed, f.signature, member.pubkey))) {
    throw new WireError("bad_member_signature", "hello signature does not verify against the member's key");
  }
}

/**
 * Said only once both signatures verified, next to `member_revoked`: is this verified delegation still
 * in force? It must be registered (the CLI does so before printing the login URL), not revoked and not
 * past its expiry by the broker's clock. Resolves with the expiry of a delegated session, null otherwise.
 */
export async function delegationInForce(repo: DelegationRepo, f: Hello, now: number): Promise<number | null> {
  if (!f.delegation) return null;
  const d = await repo.find(f.memberId, f.sessionPubkey);
  if (!d || d.meshId !== f.meshId || d.expiresAt !== f.delegation.expiresAt || d.signature !== f.delegation.signature) {
    throw new WireError("bad_delegation", "this delegation was never registered with the broker (run `claudemesh dashboard` again)");
  }
  if (d.revokedAt !== null)
    throw new WireError("delegation_revoked", "this delegation was revoked (`claudemesh dashboard --revoke`); run `claudemesh dashboard` again");
  if (d.expiresAt <= now) throw new WireError("delegation_expired", "this delegation has expired; run `claudemesh dashboard` again");
  return d.expiresAt;
}
