import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import S3rver from "s3rver";
import type { S3Config } from "../../src/blob/config.ts";
import type { BrokerLimits } from "../../src/broker/config.ts";
import type { BrokerOptions } from "../../src/server/app.ts";
import type { BrokerClient } from "../../src/client/broker-client.ts";
import { FilesClient } from "../../src/files/client.ts";
import { type Backend, tempDir } from "./backends.ts";
import { startTestBroker, type TestBroker } from "./broker.ts";

export type BlobKind = "disk" | "s3";

/** A real S3-compatible server (s3rver) on a loopback port 0, its data in a temp dir; disposing it is stop(). */
export interface TestS3 extends AsyncDisposable {
  config: S3Config;
  client: S3Client;
  stop(): Promise<void>;
}

export async function startS3(opts: { publicUrl?: boolean } = {}): Promise<TestS3> {
  const dir = tempDir("cm-s3-");
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir.path });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver's fixed credentials
  const config: S3Config = { endpoint, accessKey: "S3RVER", secretKey: "S3RVER", region: "us-east-1", publicUrl: opts.publicUrl ? endpoint : null };
  const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  const stop = async () => {
    client.destroy();
    await server.close();
    dir.cleanup();
  };
  return { config, client, stop, [Symbol.asyncDispose]: stop };
}

/** Every object key the store holds for this broker, whatever the backend (to prove nothing was left behind). */
export async function storedKeys(b: TestBroker, s3: TestS3 | null): Promise<string[]> {
  if (!s3) {
    const root = join(b.dataDir, "files");
    const out: string[] = [];
    const walk = (d: string, rel: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name), rel ? `${rel}/${e.name}` : e.name);
        else out.push(rel ? `${rel}/${e.name}` : e.name);
      }
    };
    walk(root, "");
    return out.sort();
  }
  const { Buckets = [] } = await s3.client.send(new (await import("@aws-sdk/client-s3")).ListBucketsCommand({}));
  const out: string[] = [];
  for (const bucket of Buckets) {
    const res = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket.Name }));
    for (const o of res.Contents ?? []) out.push(`${bucket.Name}/${o.Key}`);
  }
  return out.sort();
}

/** A broker whose files live on `blob` (s3: the given server), with a clock the test moves. */
export async function startFilesBroker(
  backend: Backend,
  s3: TestS3 | null,
  opts: { limits?: Partial<BrokerLimits>; files?: BrokerOptions["files"]; clock?: () => number } = {},
): Promise<TestBroker> {
  return startTestBroker(backend, opts.limits ?? {}, undefined, {
    s3: s3?.config ?? null,
    files: opts.files,
    ...(opts.clock ? { filesClock: { now: opts.clock } } : {}),
  });
}

/** The file routes as a session sees them: its bearer token from hello_ack. */
export function sessionFiles(b: { url: string }, c: BrokerClient): FilesClient {
  return new FilesClient(b.url, () => c.ack?.token ?? "");
}
