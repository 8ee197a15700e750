import { ConfigError } from "../util/errors.ts";

/** An S3-compatible store, from `S3_*` (or the spec's `MINIO_*`) variables. */
export interface S3Config {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Where clients can reach the store; set, downloads are presigned S3 URLs instead of streamed by the broker. */
  publicUrl: string | null;
}

/**
 * S3 when an endpoint is set, else null (local disk). Each `S3_*` variable wins over its `MINIO_*`
 * twin; a scheme-less endpoint (`minio:9000`, as compose writes it) means http.
 */
export function s3ConfigFromEnv(env: Record<string, string | undefined>): S3Config | null {
  const pick = (s3: string, minio?: string) => env[s3]?.trim() || (minio ? env[minio]?.trim() : undefined) || undefined;
  const endpoint = pick("S3_ENDPOINT", "MINIO_ENDPOINT");
  if (!endpoint) return null;
  const accessKey = pick("S3_ACCESS_KEY", "MINIO_ACCESS_KEY");
  const secretKey = pick("S3_SECRET_KEY", "MINIO_SECRET_KEY");
  if (!accessKey || !secretKey) {
    throw new ConfigError("an S3 endpoint is set but its credentials are not: set S3_ACCESS_KEY and S3_SECRET_KEY (or MINIO_ACCESS_KEY and MINIO_SECRET_KEY)");
  }
  const withScheme = (u: string) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `http://${u}`);
  const publicUrl = pick("S3_PUBLIC_URL");
  return {
    endpoint: withScheme(endpoint),
    accessKey,
    secretKey,
    region: pick("S3_REGION") ?? "us-east-1",
    publicUrl: publicUrl ? withScheme(publicUrl) : null,
  };
}
