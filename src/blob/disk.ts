import { createWriteStream, existsSync, mkdirSync, renameSync, rmdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import { ensurePrivateDir } from "../util/fs.ts";
import { newId } from "../util/ids.ts";
import { type BlobStore, limitStream, type PutOptions } from "./store.ts";

/** The embedded default: `{dataDir}/files/{bucket}/{key}`, the same layout as the S3 buckets. */
export class DiskBlobStore implements BlobStore {
  readonly kind = "disk" as const;
  readonly presign = null;
  private readonly root: string;
  private readonly tmp: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, "files");
    this.tmp = join(this.root, ".tmp");
    ensurePrivateDir(this.root);
    // leftovers of a broker killed mid-upload
    rmSync(this.tmp, { recursive: true, force: true });
    ensurePrivateDir(this.tmp);
  }

  /** Keys are built from sanitised names, but the path is still checked to stay inside the root. */
  private path(bucket: string, key: string): string {
    const p = resolve(this.root, bucket, key);
    if (!p.startsWith(this.root + sep) || p.startsWith(this.tmp + sep)) throw new Error(`blob path escapes the store: ${bucket}/${key}`);
    return p;
  }

  async ensureBucket(bucket: string): Promise<void> {
    ensurePrivateDir(this.path(bucket, "x").slice(0, -2));
  }

  async put(bucket: string, key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<{ size: number }> {
    const dest = this.path(bucket, key);
    const part = join(this.tmp, newId("up"));
    const limited = limitStream(body, opts.maxBytes, opts.tooLarge);
    try {
      // pipeline honours backpressure: memory stays at a few chunks whatever the file size
      await pipeline(Readable.fromWeb(limited.stream as unknown as NodeWebStream<Uint8Array>), createWriteStream(part, { mode: 0o600 }));
      mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
      renameSync(part, dest);
    } catch (err) {
      rmSync(part, { force: true });
      throw err;
    }
    return { size: limited.size() };
  }

  async get(bucket: string, key: string): Promise<ReadableStream<Uint8Array> | null> {
    const p = this.path(bucket, key);
    if (!existsSync(p) || !statSync(p).isFile()) return null;
    return Bun.file(p).stream();
  }

  async delete(bucket: string, key: string): Promise<void> {
    const p = this.path(bucket, key);
    rmSync(p, { force: true });
    // the per-file directory `{fileId}/` goes too
    try {
      rmdirSync(dirname(p));
    } catch {
      // not empty or already gone
    }
  }
}
