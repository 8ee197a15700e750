import { z } from "zod";
import { humanSize } from "../util/size.ts";

/** One file as the HTTP routes describe it (list, upload answer, download answer). */
export const FileInfo = z.object({
  id: z.string(),
  name: z.string(),
  /** the sanitised name: the default file name on download */
  storedName: z.string(),
  size: z.number(),
  mimeType: z.string(),
  tags: z.array(z.string()),
  persistent: z.boolean(),
  uploadedBy: z.string(),
  uploadedByMember: z.string(),
  uploadedAt: z.number(),
  expiresAt: z.number().nullable(),
});
export type FileInfo = z.infer<typeof FileInfo>;

export const FileList = z.object({ files: z.array(FileInfo) });
/** One file as the dashboard lists it: with how often it was downloaded. */
export const FileListing = FileInfo.extend({ downloads: z.number() });
export type FileListing = z.infer<typeof FileListing>;
export const DownloadTicket = z.object({
  file: FileInfo,
  /** absolute (a presigned S3 URL) or a path on the broker, resolved against the broker URL */
  url: z.string(),
  urlExpiresAt: z.number(),
});
export type DownloadTicket = z.infer<typeof DownloadTicket>;
export const FileAccess = z.object({ peerName: z.string(), sessionPubkey: z.string().nullable(), accessedAt: z.number() });
export const FileStatus = z.object({ file: FileInfo, accesses: z.array(FileAccess) });
export const FileDeleted = z.object({ id: z.string(), deleted: z.literal(true) });
export const FileToken = z.object({ token: z.string(), expiresAt: z.number() });

const Stored = z.object({ files: z.number(), bytes: z.number() });
/** GET /meshes/:meshId/files/usage: what the mesh's files hold against the storage quota. */
export const FilesUsageResponse = z.object({
  meshId: z.string(),
  stored: Stored,
  limits: z.object({ meshBytes: z.number(), fileBytes: z.number() }),
  members: z.array(Stored.extend({ memberId: z.string() })),
});

/** Query of POST /upload; the body is the raw bytes. */
export const UploadQuery = z.object({
  name: z.string().min(1).max(32_768),
  /** comma-separated */
  tags: z.string().max(4096).optional(),
  /** attachments: the message's targets, JSON list or one target; absent = a shared file for the whole mesh */
  to: z.string().max(8192).optional(),
});

/** A local file path as a tool receives it: the OS refuses a NUL in a path, so the schema says why first. */
export const LocalPath = z
  .string()
  .min(1)
  .refine((s) => !s.includes("\u0000"), "a local path cannot contain a NUL character");

export const ListQuery = z.object({ query: z.string().max(256).optional(), from: z.string().max(128).optional() });

/**
 * The line a recipient sees for each attachment, inside the (encrypted) message text: the sender's
 * send_message writes it, the recipient's model reads the id off it for get_file.
 */
export const attachmentLine = (f: Pick<FileInfo, "id" | "name" | "size">) => `📎 ${f.name} (${humanSize(f.size)}) — use get_file("${f.id}")`;
