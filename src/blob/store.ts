import type { WireError } from "../protocol/wire-error.ts";

/** Where a file's bytes live; metadata is in the database (src/files). */
export interface BlobStore {
  readonly kind: "disk" | "s3";
  /**
   * Stores a stream under `key`, refusing it past `maxBytes` (the error `tooLarge` makes). Nothing is left
   * behind when it fails: a half-written file or an unfinished multipart upload is removed.
   */
  put(bucket: string, key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<{ size: number }>;
  /** The bytes, streamed; null when there is no such object. */
  get(bucket: string, key: string): Promise<ReadableStream<Uint8Array> | null>;
  /** Idempotent: deleting what is not there is fine. */
  delete(bucket: string, key: string): Promise<void>;
  /** A URL clients can fetch directly, when the store is reachable by them (S3 with S3_PUBLIC_URL). */
  readonly presign: ((bucket: string, key: string, opts: { expiresInSec: number; filename: string }) => Promise<string>) | null;
  /** Creates the bucket if needed (and sets the ephemeral lifecycle rule where the backend takes one). */
  ensureBucket(bucket: string): Promise<void>;
  close?(): Promise<void>;
}

export interface PutOptions {
  maxBytes: number;
  contentType: string;
  tooLarge: () => WireError;
}

/** `mesh-{meshId}` as a valid S3 bucket name: lower case, `_` → `-`, 3-63 characters, no edge dashes. */
export function bucketName(meshId: string): string {
  let b = `mesh-${meshId}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, "-")
    .replace(/\.{2,}/g, ".");
  b = b.slice(0, 63).replace(/[-.]+$/, "");
  return b.length >= 3 ? b : `${b}---`.slice(0, 3);
}

export const EPHEMERAL_PREFIX = "ephemeral/";

/** The spec's key layout: `shared/{fileId}/{name}` and `ephemeral/{YYYY-MM-DD}/{fileId}/{name}`. */
export function blobKey(fileId: string, storedName: string, persistent: boolean, uploadedAt: number): string {
  if (persistent) return `shared/${fileId}/${storedName}`;
  const day = new Date(uploadedAt).toISOString().slice(0, 10);
  return `${EPHEMERAL_PREFIX}${day}/${fileId}/${storedName}`;
}

/**
 * Passes a stream through, counting bytes, and fails it with `tooLarge()` the moment it passes `maxBytes`,
 * so neither disk nor S3 ever receives more than the limit.
 */
export function limitStream(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => WireError,
): { stream: ReadableStream<Uint8Array>; size: () => number } {
  let size = 0;
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        size += chunk.byteLength;
        if (size > maxBytes) ctl.error(tooLarge());
        else ctl.enqueue(chunk);
      },
    }),
  );
  return { stream, size: () => size };
}
