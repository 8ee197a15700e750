import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrokerClient } from "../../src/client/broker-client.ts";
import type { FileInfo } from "../../src/files/api.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { addMember, connect, createMesh, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { anyUnits, poisoned } from "../protocol/arbitraries.ts";
import { sessionFiles, startFilesBroker } from "../helpers/files.ts";

const ROUTES = ["/upload", "/files", "/files/token", "/files/ID", "/files/ID/status", "/files/ID/content"];

describe.each(backends())("file routes under fuzzed requests on %s", (backend) => {
  let b: TestBroker;
  let work: ReturnType<typeof tempDir>;
  let alice: BrokerClient;
  let outsiderFile: FileInfo;
  const outsiderBytes = "the other mesh's file";
  suiteFixture(async (stack) => {
    b = stack.use(await startFilesBroker(backend, null, { files: { maxFileBytes: 4096 } }));
    work = stack.use(tempDir("cm-files-fuzz-"));
    const mesh = await createMesh(b, "fuzz");
    const other = await createMesh(b, "fuzz-other");
    alice = await connect(await addMember(b, mesh, "Alice"));
    const dave = sessionFiles(b, await connect(await addMember(b, other, "Dave")));
    const p = join(work.path, "theirs.txt");
    writeFileSync(p, outsiderBytes);
    outsiderFile = await dave.upload(p, {});
  });

  test("any method, path, query, token and body: a structured answer, never a crash, never another mesh's file", async () => {
    const token = fc.oneof(fc.constant(null), fc.string({ maxLength: 80 }), fc.constant("VALID"), fc.constant("cmf1.e30.x"));
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
      route: fc.constantFrom(...ROUTES),
      id: fc.oneof(
        fc.constant("OTHER"),
        fc.string({ maxLength: 40 }),
        fc.constant("../../etc/passwd"),
        // NUL, which Postgres refuses (a lone surrogate cannot be percent-encoded: encodeURIComponent throws)
        anyUnits.filter((s) => s.isWellFormed()),
      ),
      query: fc.dictionary(
        fc.constantFrom("name", "tags", "to", "query", "from", "exp", "sig", "mesh", "member", "session", "__proto__"),
        fc.oneof(fc.string({ maxLength: 300 }), anyUnits),
      ),
      token,
      body: fc.oneof(
        fc.constant(null),
        fc.uint8Array({ maxLength: 6000 }),
        fc.string({ maxLength: 500 }),
        poisoned.object.map((v) => JSON.stringify(v)),
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const id = r.id === "OTHER" ? outsiderFile.id : r.id;
        const path = r.route.replace("ID", encodeURIComponent(id) || "x");
        const headers: Record<string, string> = {};
        if (r.token !== null) headers.authorization = `Bearer ${r.token === "VALID" ? alice.ack?.token : r.token}`;
        const res = await fetch(`${b.url}${path}?${new URLSearchParams(r.query)}`, {
          method: r.method,
          headers,
          body: r.method === "GET" || r.body === null ? undefined : r.body,
        });
        const text = await res.text();
        expect(res.status).not.toBe(500);
        expect(text).not.toContain(outsiderBytes);
        if (res.status >= 400 && res.status !== 404 && res.status !== 405) {
          const body = JSON.parse(text) as { error: { code: string } };
          expect(ErrorCode.safeParse(body.error.code).success).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    const health = await fetch(`${b.url}/healthz`);
    expect(health.status).toBe(200);
    // the other mesh's file is intact, and nobody of this mesh recorded a download of it
    const mine = sessionFiles(b, alice);
    expect((await mine.list()).map((f) => f.id)).not.toContain(outsiderFile.id);
  });
});
