import { describe, expect, test } from "bun:test";
import { s3ConfigFromEnv } from "../../src/blob/config.ts";
import { blobKey, bucketName } from "../../src/blob/store.ts";

describe("blob store selection and layout", () => {
  test("no endpoint is local disk", () => {
    expect(s3ConfigFromEnv({})).toBeNull();
    expect(s3ConfigFromEnv({ S3_ACCESS_KEY: "a", S3_SECRET_KEY: "b" })).toBeNull();
  });

  test("the spec's MINIO_* variables, a scheme-less endpoint meaning http", () => {
    expect(s3ConfigFromEnv({ MINIO_ENDPOINT: "minio:9000", MINIO_ACCESS_KEY: "claudemesh", MINIO_SECRET_KEY: "s" })).toEqual({
      endpoint: "http://minio:9000",
      accessKey: "claudemesh",
      secretKey: "s",
      region: "us-east-1",
      publicUrl: null,
    });
  });

  test("each S3_* variable wins over its MINIO_* twin", () => {
    const env = {
      MINIO_ENDPOINT: "minio:9000",
      MINIO_ACCESS_KEY: "minio-key",
      MINIO_SECRET_KEY: "minio-secret",
      S3_ENDPOINT: "https://s3.example.com",
      S3_SECRET_KEY: "s3-secret",
      S3_REGION: "eu-west-3",
      S3_PUBLIC_URL: "files.example.com",
    };
    expect(s3ConfigFromEnv(env)).toEqual({
      endpoint: "https://s3.example.com",
      accessKey: "minio-key",
      secretKey: "s3-secret",
      region: "eu-west-3",
      publicUrl: "http://files.example.com",
    });
  });

  test("an endpoint without credentials is a clear error, not a silent fallback to disk", () => {
    expect(() => s3ConfigFromEnv({ S3_ENDPOINT: "http://x" })).toThrow(/S3_ACCESS_KEY and S3_SECRET_KEY/);
  });

  test("bucket names are valid S3 names; keys follow the spec", () => {
    expect(bucketName("mesh_AbC_123")).toBe("mesh-mesh-abc-123");
    for (const id of ["m_" + "x".repeat(80), "M__", "a..b", "---"]) {
      const b = bucketName(id);
      expect(b).toMatch(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
      expect(b).not.toContain("..");
    }
    const at = Date.UTC(2026, 3, 6, 23, 59);
    expect(blobKey("f_1", "a.png", true, at)).toBe("shared/f_1/a.png");
    expect(blobKey("f_1", "a.png", false, at)).toBe("ephemeral/2026-04-06/f_1/a.png");
  });
});
