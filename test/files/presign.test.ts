import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FilesClient } from "../../src/files/client.ts";
import { tempDir } from "../helpers/backends.ts";
import { addMember, connect, createMesh, outcome, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { sessionFiles, startFilesBroker, startS3, type TestS3 } from "../helpers/files.ts";

/** With S3_PUBLIC_URL, clients fetch from the store itself: a presigned GET, issued only after the access check. */
describe("presigned S3 downloads (S3_PUBLIC_URL)", () => {
  let s3: TestS3;
  let b: TestBroker;
  let work: ReturnType<typeof tempDir>;
  let alice: FilesClient;
  let bob: FilesClient;
  let carol: FilesClient;
  suiteFixture(async (stack) => {
    s3 = stack.use(await startS3({ publicUrl: true }));
    b = stack.use(await startFilesBroker("sqlite", s3));
    work = stack.use(tempDir("cm-presign-"));
    const mesh = await createMesh(b, "presign");
    [alice, bob, carol] = (await Promise.all(["Alice", "Bob", "Carol"].map(async (n) => sessionFiles(b, await connect(await addMember(b, mesh, n)))))) as [
      FilesClient,
      FilesClient,
      FilesClient,
    ];
  });

  test("the URL points at the store, downloads the same bytes, and is recorded when issued", async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(70_000));
    const src = join(work.path, "report.pdf");
    writeFileSync(src, bytes);
    const f = await alice.upload(src, { tags: ["q3"] });
    const t = await bob.ticket(f.id);
    expect(t.url.startsWith(s3.config.endpoint + "/")).toBe(true);
    expect(t.url).toContain("X-Amz-Signature=");
    const got = await bob.download(f.id, join(work.path, "bob") + "/");
    expect(Buffer.compare(readFileSync(got.path), Buffer.from(bytes))).toBe(0);
    // two tickets (ticket + download) were issued to Bob
    expect((await alice.status(f.id)).accesses.map((a) => a.peerName)).toEqual(["Bob", "Bob"]);
  });

  test("no URL at all for a reader without access", async () => {
    const src = join(work.path, "shot.png");
    writeFileSync(src, "png");
    const a = await alice.upload(src, { to: "Bob" });
    expect(await outcome(carol.ticket(a.id))).toBe("forbidden");
    expect(await outcome(bob.ticket(a.id))).toBe("ok");
  });
});
