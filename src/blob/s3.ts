import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import { log } from "../util/log.ts";
import type { S3Config } from "./config.ts";
import { type BlobStore, EPHEMERAL_PREFIX, limitStream, type PutOptions } from "./store.ts";

// 5 MiB is S3's smallest part; two in flight bound the broker's memory per upload to ~10 MiB.
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;

const client = (endpoint: string, c: S3Config) =>
  new S3Client({ endpoint, region: c.region, forcePathStyle: true, credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey } });

const status = (err: unknown) => (err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined);

/** Any S3-compatible store (AWS, MinIO, R2, …) through @aws-sdk/client-s3, loaded only by the broker. */
export class S3BlobStore implements BlobStore {
  readonly kind = "s3" as const;
  private readonly s3: S3Client;
  private readonly signer: S3Client | null;
  private readonly buckets = new Map<string, Promise<void>>();
  private lifecycleRefused = false;

  constructor(config: S3Config) {
    this.s3 = client(config.endpoint, config);
    this.signer = config.publicUrl ? client(config.publicUrl, config) : null;
    const signer = this.signer;
    // only when clients can reach the store themselves; otherwise the broker streams downloads
    this.presign = signer ? (bucket, key, opts) => this.sign(signer, bucket, key, opts) : null;
  }

  ensureBucket(bucket: string): Promise<void> {
    let p = this.buckets.get(bucket);
    if (!p) {
      p = this.createBucket(bucket).catch((err) => {
        this.buckets.delete(bucket);
        throw err;
      });
      this.buckets.set(bucket, p);
    }
    return p;
  }

  private async createBucket(bucket: string): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      if (status(err) !== 404 && status(err) !== 403) throw err;
    }
    try {
      await this.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      if (!(err instanceof S3ServiceException && /BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(err.name))) throw err;
    }
    await this.setLifecycle(bucket);
  }

  /** The broker's own sweep deletes expired attachments anyway; the rule is a second line where supported. */
  private async setLifecycle(bucket: string): Promise<void> {
    if (this.lifecycleRefused) return;
    try {
      await this.s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: { Rules: [{ ID: "claudemesh-ephemeral", Status: "Enabled", Filter: { Prefix: EPHEMERAL_PREFIX }, Expiration: { Days: 1 } }] },
        }),
      );
    } catch (err) {
      this.lifecycleRefused = true;
      log.warn("the S3 store refused a lifecycle rule for ephemeral/; the broker's sweep deletes expired attachments alone", {
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
  }

  async put(bucket: string, key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<{ size: number }> {
    const limited = limitStream(body, opts.maxBytes, opts.tooLarge);
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: bucket, Key: key, Body: Readable.fromWeb(limited.stream as unknown as NodeWebStream<Uint8Array>), ContentType: opts.contentType },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      // an aborted upload's parts are deleted, so nothing half-stored stays billed
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      await upload.abort().catch(() => {});
      // a small failed upload went out as a single PutObject, which may have landed
      await this.delete(bucket, key).catch(() => {});
      throw err;
    }
    return { size: limited.size() };
  }

  async get(bucket: string, key: string): Promise<ReadableStream<Uint8Array> | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return res.Body ? (res.Body.transformToWebStream() as ReadableStream<Uint8Array>) : null;
    } catch (err) {
      if (status(err) === 404) return null;
      throw err;
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
  }

  readonly presign: BlobStore["presign"];

  private sign(signer: S3Client, bucket: string, key: string, opts: { expiresInSec: number; filename: string }): Promise<string> {
    const disposition = `attachment; filename*=UTF-8''${encodeURIComponent(opts.filename)}`;
    return getSignedUrl(signer, new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: disposition }), { expiresIn: opts.expiresInSec });
  }

  async close(): Promise<void> {
    this.s3.destroy();
    this.signer?.destroy();
  }
}
