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
    expect(Object.keys(compose.services).sort()).toEqual(["broker", "postgres"]);
    expect(compose.services.broker.environment.DATABASE_URL).toStartWith("postgres://");
    expect(compose.services.broker.environment.DATABASE_URL).toContain("@postgres:5432/");
    expect(compose.services.postgres.ports).toBeUndefined();
    expect(compose.services.broker.depends_on.postgres.condition).toBe("service_healthy");
  });
});
