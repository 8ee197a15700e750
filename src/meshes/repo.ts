import type { Store } from "../store/db.ts";
import type { Clock } from "../util/clock.ts";
import { inList, jsonRows, num, numOrNull, rowsJson, sqliteJsonRows } from "../store/db.ts";
import { WireError } from "../protocol/wire-error.ts";
import { newId, newSecret, sha256Hex } from "../util/ids.ts";
import type { Invite, Member, MemberRole, Mesh } from "./model.ts";

/** An invite that can still let someone in. */
export const inviteUsable = (i: Invite, now: number): boolean =>
  i.revokedAt === null && (i.expiresAt === null || i.expiresAt > now) && (i.maxUses === null || i.uses < i.maxUses);

export const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

type Row = Record<string, unknown>;
const toMesh = (r: Row): Mesh => ({
  id: String(r.id),
  slug: String(r.slug),
  ownerPubkey: String(r.owner_pubkey),
  createdAt: num(r.created_at),
});
const toMember = (r: Row): Member => ({
  id: String(r.id),
  meshId: String(r.mesh_id),
  pubkey: String(r.pubkey),
  displayName: String(r.display_name),
  role: r.role as MemberRole,
  joinedAt: num(r.joined_at),
  revokedAt: numOrNull(r.revoked_at),
  inviteId: r.invite_id == null ? null : String(r.invite_id),
});
const toInvite = (r: Row): Invite => ({
  id: String(r.id),
  meshId: String(r.mesh_id),
  role: r.role as MemberRole,
  maxUses: numOrNull(r.max_uses),
  uses: num(r.uses),
  expiresAt: numOrNull(r.expires_at),
  revokedAt: numOrNull(r.revoked_at),
  createdAt: num(r.created_at),
  createdBy: r.created_by == null ? null : String(r.created_by),
});

/** `MeshRepo.meshAndMember`'s statement, before its two joins. */
const MESH_AND_MEMBER = `SELECT m.id AS mesh_row_id, m.slug, m.owner_pubkey, m.created_at,
    b.id AS member_row_id, b.mesh_id, b.pubkey, b.display_name, b.role, b.joined_at, b.revoked_at, b.invite_id
  FROM (SELECT 1 AS one) o`;
/**
 * …on SQLite, two lookups by primary key instead, kept prepared: SQLite runs the joined form about twice
 * as slow as the two together (alone ~16 against ~7.5 µs; in the broker ~66 against ~17 µs a hello).
 */
const MESH_BY_ID_SQLITE = "SELECT * FROM mesh WHERE id = ?";
const MEMBER_BY_ID_SQLITE = "SELECT * FROM member WHERE id = ?";

const PRESENCE_FIELDS = ["id", "meshId", "memberId", "sessionPubkey", "displayName", ["connectedAt", "bigint"], "nodeId"] as const;
const PRESENCE_TABLE = "presence (id, mesh_id, member_id, session_pubkey, display_name, connected_at, node_id)";
/** `writePresence`'s statements on the writer's fast connection (SQLite): its rows, its ids as JSON */
const PRESENCE_SQLITE = {
  opens: `INSERT INTO ${PRESENCE_TABLE} ${sqliteJsonRows(PRESENCE_FIELDS.length)}`,
  // its `?`: the time, then the ids as a JSON array
  closes: "UPDATE presence SET disconnected_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND disconnected_at IS NULL",
};

export class MeshRepo {
  constructor(
    private readonly store: Store,
    /** the host's: tests move it to expire invites */
    private readonly clock: Clock,
  ) {}

  private get sql() {
    return this.store.sql;
  }

  async countMeshes(): Promise<number> {
    const [r] = await this.sql`SELECT count(*) AS n FROM mesh`;
    return num(r?.n);
  }

  async meshById(id: string): Promise<Mesh | null> {
    const [r] = await this.sql`SELECT * FROM mesh WHERE id = ${id}`;
    return r ? toMesh(r) : null;
  }

  async meshBySlug(slug: string): Promise<Mesh | null> {
    const [r] = await this.sql`SELECT * FROM mesh WHERE slug = ${slug}`;
    return r ? toMesh(r) : null;
  }

  /** Creates the mesh and, when an owner name is given, its owner as the first member (role owner). */
  async createMesh(input: { slug: string; ownerPubkey: string; ownerName?: string }): Promise<{ mesh: Mesh; owner: Member | null }> {
    if (!SLUG.test(input.slug)) throw new WireError("invalid_frame", "slug must be 1-63 lowercase letters, digits or dashes");
    const now = this.clock.now();
    const mesh: Mesh = { id: newId("mesh"), slug: input.slug, ownerPubkey: input.ownerPubkey, createdAt: now };
    let owner: Member | null = null;
    await this.sql.begin(async (tx) => {
      // One statement decides, so two brokers of one Postgres creating the same slug at once get one mesh
      // and one slug_taken, never a constraint error.
      const inserted = await tx`INSERT INTO mesh (id, slug, owner_pubkey, created_at) VALUES (${mesh.id}, ${mesh.slug}, ${mesh.ownerPubkey}, ${now})
        ON CONFLICT (slug) DO NOTHING RETURNING id`;
      if (inserted.length === 0) throw new WireError("slug_taken", `a mesh named "${input.slug}" already exists`, 409);
      if (input.ownerName !== undefined) {
        owner = {
          id: newId("mbr"),
          meshId: mesh.id,
          pubkey: input.ownerPubkey,
          displayName: input.ownerName,
          role: "owner",
          joinedAt: now,
          revokedAt: null,
          inviteId: null,
        };
        await tx`INSERT INTO member (id, mesh_id, pubkey, display_name, role, joined_at)
                 VALUES (${owner.id}, ${mesh.id}, ${owner.pubkey}, ${owner.displayName}, ${owner.role}, ${now})`;
      }
    });
    return { mesh, owner };
  }

  /** Mints an invite; only the token's hash is stored, so a database leak does not leak invites. */
  async createInvite(input: {
    meshId: string;
    role: MemberRole;
    maxUses: number | null;
    expiresAt: number | null;
    createdBy: string | null;
  }): Promise<{ invite: Invite; token: string }> {
    const token = newSecret();
    const invite: Invite = {
      id: newId("inv"),
      meshId: input.meshId,
      role: input.role,
      maxUses: input.maxUses,
      uses: 0,
      expiresAt: input.expiresAt,
      revokedAt: null,
      createdAt: this.clock.now(),
      createdBy: input.createdBy,
    };
    await this.sql`INSERT INTO invite (id, mesh_id, token_hash, role, max_uses, uses, expires_at, created_by, created_at)
      VALUES (${invite.id}, ${invite.meshId}, ${sha256Hex(token)}, ${invite.role}, ${invite.maxUses}, 0, ${invite.expiresAt}, ${input.createdBy}, ${invite.createdAt})`;
    return { invite, token };
  }

  async inviteByToken(token: string): Promise<Invite | null> {
    const [r] = await this.sql`SELECT * FROM invite WHERE token_hash = ${sha256Hex(token)}`;
    return r ? toInvite(r) : null;
  }

  async inviteById(meshId: string, inviteId: string): Promise<Invite | null> {
    const [r] = await this.sql`SELECT * FROM invite WHERE id = ${inviteId} AND mesh_id = ${meshId}`;
    return r ? toInvite(r) : null;
  }

  async listInvites(meshId: string): Promise<Invite[]> {
    const rows = await this.sql`SELECT * FROM invite WHERE mesh_id = ${meshId} ORDER BY created_at, id`;
    return rows.map(toInvite);
  }

  async revokeInvite(meshId: string, inviteId: string): Promise<boolean> {
    const r = await this.sql`UPDATE invite SET revoked_at = ${this.clock.now()} WHERE id = ${inviteId} AND mesh_id = ${meshId} AND revoked_at IS NULL`;
    return r.count > 0;
  }

  /**
   * Redeems an invite for a member key. Idempotent for a key that already joined this mesh (no use consumed);
   * the use counter is bumped by one conditional UPDATE, so concurrent joins can never exceed max uses.
   */
  async redeemInvite(input: { token: string; pubkey: string; displayName: string }): Promise<{ member: Member; mesh: Mesh; created: boolean }> {
    const now = this.clock.now();
    return await this.sql.begin(async (tx) => {
      const [ir] = await tx`SELECT * FROM invite WHERE token_hash = ${sha256Hex(input.token)}`;
      if (!ir) throw new WireError("invite_not_found", "this invite does not exist", 404);
      const invite = toInvite(ir);
      if (invite.revokedAt !== null) throw new WireError("invite_revoked", "this invite has been revoked", 410);
      if (invite.expiresAt !== null && invite.expiresAt <= now) throw new WireError("invite_expired", "this invite has expired", 410);
      const [mr] = await tx`SELECT * FROM mesh WHERE id = ${invite.meshId}`;
      if (!mr) throw new WireError("invite_not_found", "this invite's mesh no longer exists", 404);
      const mesh = toMesh(mr);
      const [existing] = await tx`SELECT * FROM member WHERE mesh_id = ${invite.meshId} AND pubkey = ${input.pubkey}`;
      if (existing) {
        const member = toMember(existing);
        if (member.revokedAt !== null) throw new WireError("member_revoked", "this member has been revoked from the mesh", 403);
        return { member, mesh, created: false };
      }
      const bumped = await tx`UPDATE invite SET uses = uses + 1
        WHERE id = ${invite.id} AND (max_uses IS NULL OR uses < max_uses) RETURNING id`;
      if (bumped.length === 0) throw new WireError("invite_used_up", "this invite has no uses left", 410);
      const member: Member = {
        id: newId("mbr"),
        meshId: invite.meshId,
        pubkey: input.pubkey,
        displayName: input.displayName,
        role: invite.role,
        joinedAt: now,
        revokedAt: null,
        inviteId: invite.id,
      };
      await tx`INSERT INTO member (id, mesh_id, pubkey, display_name, role, invite_id, joined_at)
        VALUES (${member.id}, ${member.meshId}, ${member.pubkey}, ${member.displayName}, ${member.role}, ${invite.id}, ${now})`;
      return { member, mesh, created: true };
    });
  }

  /**
   * A hello's two lookups, the mesh and the member, each null when there is no such row: on Postgres one
   * statement (one round trip fewer per connect), on SQLite two prepared ones. Which mesh the member
   * belongs to is the caller's check.
   */
  async meshAndMember(meshId: string, memberId: string): Promise<{ mesh: Mesh | null; member: Member | null }> {
    // one per connect: on SQLite with its statements kept prepared (`Store.prepared`); both run in one turn
    // of the event loop, so no write of this process falls between them
    const meshes = this.store.prepared?.(MESH_BY_ID_SQLITE, [meshId]);
    const members = meshes && this.store.prepared?.(MEMBER_BY_ID_SQLITE, [memberId]);
    if (meshes && members) {
      const [mesh] = meshes;
      const [member] = members;
      return { mesh: mesh ? toMesh(mesh) : null, member: member ? toMember(member) : null };
    }
    const [r] = await this.sql`${this.sql.unsafe(MESH_AND_MEMBER)} LEFT JOIN mesh m ON m.id = ${meshId} LEFT JOIN member b ON b.id = ${memberId}`;
    if (!r) return { mesh: null, member: null };
    return {
      mesh: r.mesh_row_id == null ? null : toMesh({ ...r, id: r.mesh_row_id }),
      member: r.member_row_id == null ? null : toMember({ ...r, id: r.member_row_id }),
    };
  }

  async memberById(id: string): Promise<Member | null> {
    const [r] = await this.sql`SELECT * FROM member WHERE id = ${id}`;
    return r ? toMember(r) : null;
  }

  async listMembers(meshId: string): Promise<Member[]> {
    const rows = await this.sql`SELECT * FROM member WHERE mesh_id = ${meshId} ORDER BY joined_at, id`;
    return rows.map(toMember);
  }

  /** Active members of one mesh with this id or display name. */
  async activeMembersByIdOrName(meshId: string, idOrName: string): Promise<Member[]> {
    const rows = await this.sql`SELECT * FROM member
      WHERE mesh_id = ${meshId} AND revoked_at IS NULL AND (id = ${idOrName} OR display_name = ${idOrName}) ORDER BY joined_at, id`;
    return rows.map(toMember);
  }

  /**
   * Revokes members and, in the same transaction, each one's invite while it could still let someone in,
   * so a revoked member cannot simply rejoin with a fresh key through the invite it came in with.
   */
  async revokeMembers(meshId: string, members: Member[]): Promise<{ revoked: string[]; invitesRevoked: string[] }> {
    const now = this.clock.now();
    const revoked: string[] = [];
    const invitesRevoked: string[] = [];
    await this.sql.begin(async (tx) => {
      for (const m of members) {
        const hit = await tx`UPDATE member SET revoked_at = ${now} WHERE id = ${m.id} AND mesh_id = ${meshId} AND revoked_at IS NULL RETURNING id`;
        if (hit.length === 0) continue;
        revoked.push(m.id);
        if (m.inviteId === null) continue;
        const inv = await tx`UPDATE invite SET revoked_at = ${now}
          WHERE id = ${m.inviteId} AND mesh_id = ${meshId} AND revoked_at IS NULL
            AND (expires_at IS NULL OR expires_at > ${now}) AND (max_uses IS NULL OR uses < max_uses) RETURNING id`;
        if (inv.length > 0 && !invitesRevoked.includes(m.inviteId)) invitesRevoked.push(m.inviteId);
      }
    });
    return { revoked, invitesRevoked };
  }

  /** Records a signed request's nonce; false when this member already used it (a replay). */
  async useNonce(memberId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const rows = await this.sql`INSERT INTO request_nonce (member_id, nonce, expires_at) VALUES (${memberId}, ${nonce}, ${expiresAt})
      ON CONFLICT DO NOTHING RETURNING nonce`;
    return rows.length > 0;
  }

  async pruneNonces(now: number): Promise<void> {
    await this.sql`DELETE FROM request_nonce WHERE expires_at < ${now}`;
  }

  /**
   * Opens and closes many presence rows in one job of the store's shared writer (a connect or disconnect
   * storm costs one commit per batch, not one per session, and on SQLite its sync is off the event loop:
   * on the broker's own connection each batch's commit held the loop for its fsync). Opens go first: a
   * session that came and went within one batch is inserted before it is closed. The rows and ids travel
   * as one JSON parameter: one statement shape whatever the batch's size (`inList` says why).
   */
  writePresence(ops: PresenceOp[]): Promise<void> {
    // the row's own fields only: an open's row is often the live session object itself
    const opens = ops.flatMap((o) =>
      o.kind === "open"
        ? [
            {
              id: o.row.id,
              meshId: o.row.meshId,
              memberId: o.row.memberId,
              sessionPubkey: o.row.sessionPubkey,
              displayName: o.row.displayName,
              connectedAt: o.row.connectedAt,
              nodeId: o.row.nodeId,
            },
          ]
        : [],
    );
    // a storm's disconnects share a few clock readings: one statement per reading
    const closes = [
      ...Map.groupBy(
        ops.flatMap((o) => (o.kind === "close" ? [o] : [])),
        (c) => c.at,
      ),
    ].map(([at, group]) => ({ at, ids: group.map((c) => c.id) }));
    const dialect = this.store.dialect;
    return this.store.writer.write(
      async (tx) => {
        if (opens.length > 0) await tx`INSERT INTO ${tx.unsafe(PRESENCE_TABLE)} ${jsonRows(tx, dialect, opens, PRESENCE_FIELDS)}`;
        for (const { at, ids } of closes) {
          await tx`UPDATE presence SET disconnected_at = ${at} WHERE id ${inList(tx, dialect, ids)} AND disconnected_at IS NULL`;
        }
        return { ok: true, value: undefined };
      },
      (db) => {
        if (opens.length > 0) db.run(PRESENCE_SQLITE.opens, [rowsJson(opens, PRESENCE_FIELDS)]);
        for (const { at, ids } of closes) db.run(PRESENCE_SQLITE.closes, [at, JSON.stringify(ids)]);
        return { ok: true, value: undefined };
      },
    );
  }

  /** Forgets sessions that ended before `before`. */
  async prunePresence(before: number): Promise<void> {
    await this.sql`DELETE FROM presence WHERE disconnected_at IS NOT NULL AND disconnected_at < ${before}`;
  }

  /**
   * Closes the presence rows a node left open: its own at start (nobody is connected to a broker that just
   * started, and rows from before nodes existed go with them), or a dead node's, closed by a survivor.
   */
  async closeNodePresence(nodeId: string, opts: { andLegacy: boolean }): Promise<void> {
    const now = this.clock.now();
    if (opts.andLegacy) await this.sql`UPDATE presence SET disconnected_at = ${now} WHERE disconnected_at IS NULL AND (node_id = ${nodeId} OR node_id IS NULL)`;
    else await this.sql`UPDATE presence SET disconnected_at = ${now} WHERE disconnected_at IS NULL AND node_id = ${nodeId}`;
  }
}

export type PresenceOp =
  | { kind: "open"; row: { id: string; meshId: string; memberId: string; sessionPubkey: string; displayName: string; connectedAt: number; nodeId: string } }
  | { kind: "close"; id: string; at: number };
