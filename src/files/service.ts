import type { FeatureHost } from "../broker/host.ts";
import type { PeerState } from "../broker/peer.ts";
import { type BlobStore, blobKey, bucketName } from "../blob/store.ts";
import { WireError } from "../protocol/wire-error.ts";
import { newId } from "../util/ids.ts";
import { charLength, textProblem } from "../util/text.ts";
import type { DownloadTicket, FileInfo, FileListing } from "./api.ts";
import type { FilesLimits } from "./config.ts";
import { displayName, mimeType, storedName } from "./names.ts";
import { type AccessRow, FileRepo, type FileRow } from "./repo.ts";
import { type Downloader, downloadPath, Signer } from "./signing.ts";

/** Who calls a file route: a live session (bearer token from hello_ack) or a member's CLI (upload token). */
export interface Caller {
  meshId: string;
  memberId: string;
  /** the session's display name, or the member's */
  name: string;
  sessionPubkey: string | null;
  /** the live session, when there is one (attachments are resolved against its mesh's peers) */
  peer: PeerState | null;
}

const MAX_TAGS = 16;
const MAX_TAG_CHARS = 64;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;

export function parseTags(raw: string | undefined): string[] {
  const tags = [
    ...new Set(
      (raw ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  if (tags.length > MAX_TAGS) throw new WireError("invalid_argument", `${tags.length} tags; the limit is ${MAX_TAGS}`);
  for (const t of tags) {
    const p = textProblem(t) ?? (/[\u0000-\u001f\u007f]/.test(t) ? "contains a control character" : null);
    if (p) throw new WireError("invalid_argument", `tag ${p}`);
    if (charLength(t) > MAX_TAG_CHARS) throw new WireError("invalid_argument", `tag "${t.slice(0, 20)}…" is longer than ${MAX_TAG_CHARS} characters`);
  }
  return tags;
}

function parseTo(raw: string): string[] {
  let list: unknown = raw;
  if (raw.trim().startsWith("[")) {
    try {
      list = JSON.parse(raw);
    } catch {
      throw new WireError("invalid_argument", "`to` is neither a target nor a JSON list of targets");
    }
  }
  const targets = (Array.isArray(list) ? list : [list]).map((t) => (typeof t === "string" ? t.trim() : "")).filter(Boolean);
  if (targets.length === 0 || targets.length > 64) throw new WireError("invalid_argument", "an attachment needs 1-64 targets in `to`");
  return targets;
}

/**
 * The sessions a message to `targets` reaches, as messaging resolves them: names match display names,
 * `@group`, `@all` and `*` exclude the sender; a target that matches nobody fails the upload.
 */
function audience(targets: string[], peers: PeerState[], sender: PeerState): PeerState[] {
  const out = new Set<PeerState>();
  const unmatched: string[] = [];
  for (const t of targets) {
    const matched =
      t === "*" || t === "@all"
        ? peers.filter((p) => p !== sender)
        : t.startsWith("@")
          ? peers.filter((p) => p !== sender && p.groups.has(t.slice(1)))
          : peers.filter((p) => p.displayName === t);
    if (matched.length === 0) unmatched.push(t);
    for (const p of matched) out.add(p);
  }
  if (unmatched.length) throw new WireError("unknown_target", `no connected peer matches ${unmatched.map((t) => `"${t}"`).join(", ")}; nothing was stored`);
  return [...out];
}

export const toInfo = (f: FileRow): FileInfo => ({
  id: f.id,
  name: f.name,
  storedName: storedName(f.name),
  size: f.size,
  mimeType: f.mimeType,
  tags: f.tags,
  persistent: f.persistent,
  uploadedBy: f.uploadedByName,
  uploadedByMember: f.uploadedByMember,
  uploadedAt: f.uploadedAt,
  expiresAt: f.expiresAt,
});

/**
 * Files and attachments: metadata in the database, bytes in the blob store, access checked here for
 * every route. Uploads and downloads stream; nothing holds a whole file in memory.
 */
export class FilesService {
  readonly repo: FileRepo;
  /** bytes being uploaded right now, per mesh, so concurrent uploads cannot overshoot the quota together */
  private readonly reserved = new Map<string, number>();

  constructor(
    private readonly host: FeatureHost,
    readonly blob: BlobStore,
    readonly signer: Signer,
    readonly limits: FilesLimits,
    readonly now: () => number,
  ) {
    this.repo = new FileRepo(host.store);
  }

  async upload(
    caller: Caller,
    input: { name: string; tags?: string; to?: string; contentLength: number | null; body: ReadableStream<Uint8Array> | null },
  ): Promise<FileInfo> {
    const name = displayName(input.name);
    const tags = parseTags(input.tags);
    const persistent = input.to === undefined;
    const readers = [caller.memberId];
    let targetSpec: string | null = null;
    if (!persistent) {
      if (!caller.peer) throw new WireError("unauthorized", "attachments are sent from a live session (its bearer token from hello_ack)", 401);
      const targets = parseTo(input.to as string);
      for (const p of audience(targets, this.host.peers.peersOf(caller.meshId), caller.peer)) readers.push(p.memberId);
      targetSpec = targets.join(", ");
    }
    const { maxFileBytes, meshQuotaBytes } = this.limits;
    if (input.contentLength !== null && input.contentLength > maxFileBytes) throw this.tooLarge();

    const reservedNow = this.reserved.get(caller.meshId) ?? 0;
    const remaining = meshQuotaBytes - (await this.repo.usedBytes(caller.meshId)) - reservedNow;
    if (input.contentLength !== null && input.contentLength > remaining) throw this.overQuota(remaining);
    if (remaining <= 0) throw this.overQuota(0);
    const limit = Math.min(maxFileBytes, remaining);
    const limitError = () => (limit === maxFileBytes ? this.tooLarge() : this.overQuota(remaining));

    this.reserved.set(caller.meshId, reservedNow + limit);
    const id = newId("f");
    const uploadedAt = this.now();
    const key = blobKey(id, storedName(name), persistent, uploadedAt);
    const bucket = bucketName(caller.meshId);
    try {
      await this.blob.ensureBucket(bucket);
      let over = false;
      let size: number;
      try {
        ({ size } = await this.blob.put(bucket, key, input.body ?? new Blob([]).stream(), {
          maxBytes: limit,
          contentType: mimeType(name),
          tooLarge: () => {
            over = true;
            return limitError();
          },
        }));
      } catch (err) {
        // the SDK may wrap the stream's error; the limit is what failed
        if (over) throw limitError();
        throw err;
      }
      const row = {
        id,
        meshId: caller.meshId,
        name,
        size,
        mimeType: mimeType(name),
        key,
        tags,
        persistent,
        uploadedByName: caller.name,
        uploadedByMember: caller.memberId,
        targetSpec,
        uploadedAt,
        expiresAt: persistent ? null : uploadedAt + this.limits.ephemeralTtlMs,
      };
      try {
        await this.repo.insert(row, readers);
      } catch (err) {
        await this.blob.delete(bucket, key).catch(() => {});
        throw err;
      }
      const info = toInfo({ ...row, deletedAt: null });
      if (persistent) this.host.activity.publish(caller.meshId, { type: "file_shared", at: uploadedAt, file: info });
      return info;
    } finally {
      const left = (this.reserved.get(caller.meshId) ?? limit) - limit;
      if (left > 0) this.reserved.set(caller.meshId, left);
      else this.reserved.delete(caller.meshId);
    }
  }

  private tooLarge(): WireError {
    return new WireError(
      "file_too_large",
      `the file is larger than this broker's limit of ${mib(this.limits.maxFileBytes)} (--max-file-size); nothing was stored`,
      413,
    );
  }

  private overQuota(remaining: number): WireError {
    return new WireError(
      "storage_quota_exceeded",
      `this mesh's files would exceed its storage quota of ${mib(this.limits.meshQuotaBytes)} (${mib(Math.max(0, remaining))} left; --mesh-storage-quota); delete files or ask the operator; nothing was stored`,
      413,
    );
  }

  /** The live file if the caller may read it; otherwise the reason, as a clear error. */
  async readable(caller: Pick<Caller, "meshId" | "memberId">, id: string): Promise<FileRow> {
    const f = await this.repo.get(caller.meshId, id);
    // another mesh's file is indistinguishable from none at all
    if (!f) throw new WireError("not_found", `no file ${id} in this mesh`, 404);
    if (f.deletedAt !== null && (f.expiresAt === null || f.deletedAt < f.expiresAt))
      throw new WireError("file_deleted", `file ${id} ("${f.name}") was deleted`, 410);
    if (f.expiresAt !== null && f.expiresAt <= this.now()) {
      throw new WireError("file_expired", `file ${id} ("${f.name}") was a message attachment and expired ${new Date(f.expiresAt).toISOString()}`, 410);
    }
    if (f.deletedAt !== null) throw new WireError("file_deleted", `file ${id} ("${f.name}") was deleted`, 410);
    if (!f.persistent && f.uploadedByMember !== caller.memberId && !(await this.repo.isReader(f.id, caller.memberId))) {
      throw new WireError("forbidden", `file ${id} is an attachment of a message to others; only its recipients may read it`, 403);
    }
    return f;
  }

  async list(caller: Caller, q: { query?: string; from?: string }): Promise<FileInfo[]> {
    let files = await this.repo.visible(caller.meshId, caller.memberId, this.now());
    const query = q.query?.trim().toLowerCase();
    if (query) files = files.filter((f) => f.name.toLowerCase().includes(query) || f.tags.some((t) => t.toLowerCase().includes(query)));
    const from = q.from?.trim().toLowerCase();
    if (from) {
      const members = new Map((await this.host.auth.members(caller.meshId)).map((m) => [m.id, m.displayName.toLowerCase()]));
      files = files.filter((f) => f.uploadedByName.toLowerCase() === from || members.get(f.uploadedByMember) === from);
    }
    return files.map(toInfo);
  }

  /** What the dashboard lists: the files the caller may read, with their download counts. */
  async listing(caller: Caller): Promise<FileListing[]> {
    const [files, counts] = await Promise.all([this.list(caller, {}), this.repo.downloadCounts(caller.meshId)]);
    return files.map((f) => ({ ...f, downloads: counts.get(f.id) ?? 0 }));
  }

  /** Access checked, then a short-lived URL: presigned by S3 when clients can reach it, else signed by us. */
  async ticket(caller: Caller, id: string): Promise<DownloadTicket> {
    const f = await this.readable(caller, id);
    const urlExpiresAt = this.now() + this.limits.urlTtlMs;
    const who: Downloader = { meshId: caller.meshId, memberId: caller.memberId, sessionPubkey: caller.sessionPubkey, name: caller.name };
    if (this.blob.presign) {
      const url = await this.blob.presign(bucketName(f.meshId), f.key, { expiresInSec: Math.ceil(this.limits.urlTtlMs / 1000), filename: storedName(f.name) });
      // the store serves the bytes, so the broker never sees the download finish: the URL is the record
      await this.recordAccess(f, who);
      return { file: toInfo(f), url, urlExpiresAt };
    }
    return { file: toInfo(f), url: downloadPath(this.signer, f.id, urlExpiresAt, who), urlExpiresAt };
  }

  /** The bytes for a verified download URL; the access is recorded once the last byte has been read. */
  async content(f: FileRow, who: Downloader): Promise<ReadableStream<Uint8Array>> {
    const stream = await this.blob.get(bucketName(f.meshId), f.key);
    if (!stream) throw new WireError("file_deleted", `the bytes of file ${f.id} are gone`, 410);
    let sent = 0;
    return stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, ctl) => {
          sent += chunk.byteLength;
          ctl.enqueue(chunk);
        },
        flush: async () => {
          if (sent === f.size) await this.recordAccess(f, who);
        },
      }),
    );
  }

  private async recordAccess(f: FileRow, who: Downloader): Promise<void> {
    await this.repo.recordAccess(f.id, { sessionPubkey: who.sessionPubkey, peerName: who.name, memberId: who.memberId, at: this.now() }).catch((err) => {
      this.host.log.warn("could not record a file download", { file: f.id, err: String(err) });
    });
  }

  async status(caller: Caller, id: string): Promise<{ file: FileInfo; accesses: AccessRow[] }> {
    const f = await this.readable(caller, id);
    return { file: toInfo(f), accesses: await this.repo.accesses(f.id) };
  }

  /** The uploader's member, or an owner/admin of the mesh. */
  async remove(caller: Caller, id: string): Promise<void> {
    const f = await this.readable(caller, id);
    if (f.uploadedByMember !== caller.memberId) {
      const me = (await this.host.auth.members(caller.meshId)).find((m) => m.id === caller.memberId);
      if (me?.role !== "owner" && me?.role !== "admin")
        throw new WireError("forbidden", `only ${f.uploadedByName} (who uploaded it) or a mesh owner/admin may delete file ${id}`, 403);
    }
    if (!(await this.repo.markDeleted(f.meshId, f.id, this.now()))) throw new WireError("file_deleted", `file ${id} was deleted`, 410);
    if (f.persistent) this.host.activity.publish(f.meshId, { type: "file_deleted", at: this.now(), fileId: f.id, name: f.name, by: caller.name });
    await this.blob
      .delete(bucketName(f.meshId), f.key)
      .catch((err) => this.host.log.warn("could not delete a file's bytes; the row is marked deleted", { file: f.id, err: String(err) }));
  }

  /** The broker's own expiry of attachments (S3 lifecycle rules are not everywhere). */
  async sweep(): Promise<number> {
    let n = 0;
    for (;;) {
      const batch = await this.repo.expired(this.now());
      if (batch.length === 0) return n;
      for (const f of batch) {
        await this.blob.delete(bucketName(f.meshId), f.key);
        await this.repo.markDeleted(f.meshId, f.id, this.now());
        n++;
      }
    }
  }
}
