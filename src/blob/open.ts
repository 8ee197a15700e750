import type { S3Config } from "./config.ts";
import { DiskBlobStore } from "./disk.ts";
import type { BlobStore } from "./store.ts";

/** S3 when configured, else local disk. The S3 SDK is imported here, lazily: only a broker ever loads it. */
export async function openBlobStore(opts: { dataDir: string; s3: S3Config | null }): Promise<BlobStore> {
  if (!opts.s3) return new DiskBlobStore(opts.dataDir);
  const { S3BlobStore } = await import("./s3.ts");
  const store = new S3BlobStore(opts.s3);
  return store;
}
