import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/binary.ts";

// No Docker engine runs here, so the deployment files are checked statically.
describe("Dockerfile and compose.yaml", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");

  test("every file the Dockerfile copies from the context exists", () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] as string).split(/\s+/));
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) expect(existsSync(join(ROOT, s))).toBe(true);
  });

  test("the image runs the broker as a non-root user on a data volume", () => {
    expect(dockerfile).toMatch(/^USER claudemesh$/m);
    expect(dockerfile).toMatch(/CMD \["broker", "--host", "0.0.0.0", "--port", "7900", "--data-dir", "\/data"\]/);
    expect(dockerfile).toContain("npm ci");
    expect(dockerfile).toContain("bun scripts/build.ts");
  });

  test("compose wires the broker to Postgres and keeps Postgres internal", () => {
    const compose = Bun.YAML.parse(readFileSync(join(ROOT, "compose.yaml"), "utf8")) as any;
    expect(Object.keys(compose.services).sort()).toEqual(["broker", "minio", "postgres"]);
    expect(compose.services.broker.environment.DATABASE_URL).toStartWith("postgres://");
    expect(compose.services.broker.environment.DATABASE_URL).toContain("@postgres:5432/");
    expect(compose.services.postgres.ports).toBeUndefined();
    expect(compose.services.broker.depends_on.postgres.condition).toBe("service_healthy");
  });

  test("compose wires the broker to MinIO on an internal network, credentials from the environment", () => {
    const compose = Bun.YAML.parse(readFileSync(join(ROOT, "compose.yaml"), "utf8")) as any;
    const { broker, minio } = compose.services;
    expect(minio.image).toStartWith("minio/minio");
    expect(minio.ports).toBeUndefined();
    expect(minio.networks).toEqual(["storage"]);
    expect(compose.networks.storage.internal).toBe(true);
    expect(broker.networks).toContain("storage");
    // scheme-less, as the spec writes it: the broker reads it as http://minio:9000
    expect(broker.environment.MINIO_ENDPOINT).toBe("minio:9000");
    expect(broker.environment.MINIO_ACCESS_KEY).toBe(minio.environment.MINIO_ROOT_USER);
    // the same secret, from the environment, never written in the file
    expect(broker.environment.MINIO_SECRET_KEY).toMatch(/^\$\{MINIO_SECRET_KEY:\?/);
    expect(minio.environment.MINIO_ROOT_PASSWORD).toBe(broker.environment.MINIO_SECRET_KEY);
    expect(minio.volumes).toEqual(["minio-data:/data"]);
    expect(Object.keys(compose.volumes)).toContain("minio-data");
    expect(broker.depends_on.minio).toBeDefined();
  });
});
