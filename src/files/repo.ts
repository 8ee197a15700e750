import type { Store } from "../store/db.ts";
import { num, numOrNull } from "../store/db.ts";
import { newId } from "../util/ids.ts";
import { textProblem } from "../util/text.ts";

type Row = Record<string, unknown>;

export interface FileRow {
  id: string;
  meshId: string;
  name: string;
  size: number;
  mimeType: string;
  key: string;
  tags: string[];
  persistent: boolean;
  uploadedByName: string;
  uploadedByMember: string;
  targetSpec: string | null;
  uploadedAt: number;
  expiresAt: number | null;
  deletedAt: number | null;
}

export interface AccessRow {
  peerName: string;
  sessionPubkey: string | null;
  accessedAt: number;
}

const toFile = (r: Row): FileRow => ({
  id: String(r.id),
  meshId: String(r.mesh_id),
  name: String(r.name),
  size: num(r.size_bytes),
  mimeType: String(r.mime_type ?? "application/octet-stream"),
  key: String(r.minio_key),
  tags: JSON.parse(String(r.tags ?? "[]")) as string[],
  persistent: r.persistent === true || Number(r.persistent) === 1,
  uploadedByName: String(r.uploaded_by_name ?? ""),
  uploadedByMember: String(r.uploaded_by_member ?? ""),
  targetSpec: r.target_spec === null || r.target_spec === undefined ? null : String(r.target_spec),
  uploadedAt: num(r.uploaded_at),
  expiresAt: numOrNull(r.expires_at),
  deletedAt: numOrNull(r.deleted_at),
});

/** File metadata. Every read is scoped by mesh id, so nothing here reaches another mesh's files. */
export class FileRepo {
  constructor(private readonly store: Store) {}

  async insert(f: Omit<FileRow, "deletedAt">, readers: string[]): Promise<void> {
    await this.store.sql.begin(async (tx) => {
      await tx`INSERT INTO file (id, mesh_id, name, size_bytes, mime_type, minio_key, tags, persistent, uploaded_by_name, uploaded_by_member, target_spec, uploaded_at, expires_at)
        VALUES (${f.id}, ${f.meshId}, ${f.name}, ${f.size}, ${f.mimeType}, ${f.key}, ${JSON.stringify(f.tags)}, ${f.persistent}, ${f.uploadedByName}, ${f.uploadedByMember}, ${f.targetSpec}, ${f.uploadedAt}, ${f.expiresAt})`;
      for (const m of new Set(readers)) await tx`INSERT INTO file_reader (file_id, member_id) VALUES (${f.id}, ${m})`;
    });
  }

  /** The row, deleted or expired ones included (so callers can say which). */
  async get(meshId: string, id: string): Promise<FileRow | null> {
    // ids come from URLs: one no row could hold is no file (Postgres would refuse the query over a NUL)
    if (textProblem(id) !== null) return null;
    const [row]: Row[] = await this.store.sql`SELECT * FROM file WHERE mesh_id = ${meshId} AND id = ${id}`;
    return row ? toFile(row) : null;
  }

  async isReader(fileId: string, memberId: string): Promise<boolean> {
    const rows: Row[] = await this.store.sql`SELECT 1 FROM file_reader WHERE file_id = ${fileId} AND member_id = ${memberId}`;
    return rows.length > 0;
  }

  /** Live files a member may read: every shared file, and the attachments it sent or received. Newest first. */
  async visible(meshId: string, memberId: string, now: number, limit = 500): Promise<FileRow[]> {
    const persistentTrue = this.store.dialect === "postgres" ? true : 1;
    const rows: Row[] = await this.store.sql`
      SELECT * FROM file f
      WHERE f.mesh_id = ${meshId} AND f.deleted_at IS NULL AND (f.expires_at IS NULL OR f.expires_at > ${now})
        AND (f.persistent = ${persistentTrue} OR f.uploaded_by_member = ${memberId}
             OR EXISTS (SELECT 1 FROM file_reader r WHERE r.file_id = f.id AND r.member_id = ${memberId}))
      ORDER BY f.uploaded_at DESC, f.id
      LIMIT ${limit}`;
    return rows.map(toFile);
  }

  /** Bytes held by the mesh's live files, for the storage quota. */
  async usedBytes(meshId: string): Promise<number> {
    const [row]: Row[] = await this.store.sql`SELECT COALESCE(SUM(size_bytes), 0) AS n FROM file WHERE mesh_id = ${meshId} AND deleted_at IS NULL`;
    return num(row?.n);
  }

  /** Files and bytes the mesh holds, per uploading member (what counts against the storage quota). */
  async usageByMember(meshId: string): Promise<{ memberId: string; files: number; bytes: number }[]> {
    const rows: Row[] = await this.store.sql`
      SELECT uploaded_by_member AS member_id, COUNT(*) AS files, COALESCE(SUM(size_bytes), 0) AS bytes
      FROM file WHERE mesh_id = ${meshId} AND deleted_at IS NULL GROUP BY uploaded_by_member`;
    return rows.map((r) => ({ memberId: String(r.member_id), files: num(r.files), bytes: num(r.bytes) }));
  }

  /** Marks deleted; false when it already was. */
  async markDeleted(meshId: string, id: string, now: number): Promise<boolean> {
    const rows: Row[] = await this.store.sql`UPDATE file SET deleted_at = ${now} WHERE mesh_id = ${meshId} AND id = ${id} AND deleted_at IS NULL RETURNING id`;
    return rows.length > 0;
  }

  /** Expired attachments whose bytes are still stored, oldest first. */
  async expired(now: number, limit = 200): Promise<FileRow[]> {
    const rows: Row[] = await this.store.sql`
      SELECT * FROM file WHERE deleted_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ${now} ORDER BY expires_at LIMIT ${limit}`;
    return rows.map(toFile);
  }

  async recordAccess(fileId: string, a: { sessionPubkey: string | null; peerName: string; memberId: string; at: number }): Promise<void> {
    await this.store.sql`INSERT INTO file_access (id, file_id, peer_session_pubkey, peer_name, peer_member, accessed_at)
      VALUES (${newId("fa")}, ${fileId}, ${a.sessionPubkey}, ${a.peerName}, ${a.memberId}, ${a.at})`;
  }

  /** Downloads per live file of a mesh (files never downloaded are absent). */
  async downloadCounts(meshId: string): Promise<Map<string, number>> {
    const rows: Row[] = await this.store.sql`
      SELECT a.file_id, COUNT(*) AS n FROM file_access a JOIN file f ON f.id = a.file_id
      WHERE f.mesh_id = ${meshId} AND f.deleted_at IS NULL GROUP BY a.file_id`;
    return new Map(rows.map((r) => [String(r.file_id), num(r.n)]));
  }

  async accesses(fileId: string): Promise<AccessRow[]> {
    const rows: Row[] = await this.store
      .sql`SELECT peer_name, peer_session_pubkey, accessed_at FROM file_access WHERE file_id = ${fileId} ORDER BY accessed_at, id`;
    return rows.map((r) => ({
      peerName: String(r.peer_name ?? ""),
      sessionPubkey: r.peer_session_pubkey === null ? null : String(r.peer_session_pubkey),
      accessedAt: num(r.accessed_at),
    }));
  }
}
