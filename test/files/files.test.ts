import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BrokerClient } from "../../src/client/broker-client.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { brokerRequest } from "../../src/client/http.ts";
import { FileToken } from "../../src/files/api.ts";
import { FilesClient } from "../../src/files/client.ts";
import type { WireError } from "../../src/protocol/wire-error.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { addMember, connect, createMesh, outcome, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { type BlobKind, sessionFiles, startFilesBroker, startS3, storedKeys, type TestS3 } from "../helpers/files.ts";

const DAY = 24 * 60 * 60_000;
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** Fetches a URL the way a client would; the status and the body it got. */
async function fetchRaw(b: TestBroker, url: string): Promise<{ status: number; body: Uint8Array; json: any }> {
  const res = await fetch(new URL(url, b.url + "/"));
  const body = new Uint8Array(await res.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    // bytes
  }
  return { status: res.status, body, json };
}

/** The same suites on each database and each blob store. */
const cases: [string, BlobKind][] = backends().flatMap((db) => (["disk", "s3"] as const).map((blob): [string, BlobKind] => [`${db} + ${blob}`, blob]));
const dbOf = (name: string) => (name.startsWith("postgres") ? "postgres" : "sqlite") as "sqlite" | "postgres";

describe.each(cases)("files on %s", (name, blob) => {
  let s3: TestS3 | null = null;
  let b: TestBroker;
  let clock = Date.now();
  let work: ReturnType<typeof tempDir>;
  let members: Record<"Alice" | "Bob" | "Carol" | "Dave", MeshConfig>;
  let sessions: Record<"Alice" | "Bob" | "Carol" | "Dave", BrokerClient>;
  let files: Record<"Alice" | "Bob" | "Carol" | "Dave", FilesClient>;
  const path = (n: string) => join(work.path, n);
  const write = (n: string, bytes: Uint8Array | string) => {
    writeFileSync(path(n), bytes);
    return path(n);
  };

  suiteFixture(async (stack) => {
    if (blob === "s3") s3 = stack.use(await startS3());
    b = stack.use(await startFilesBroker(dbOf(name), s3, { clock: () => clock }));
    work = stack.use(tempDir("cm-files-"));
    const mesh = await createMesh(b, "files");
    const other = await createMesh(b, "files-other");
    members = {
      Alice: await addMember(b, mesh, "Alice"),
      Bob: await addMember(b, mesh, "Bob"),
      Carol: await addMember(b, mesh, "Carol"),
      Dave: await addMember(b, other, "Dave"),
    };
    sessions = {} as typeof sessions;
    files = {} as typeof files;
    for (const [n, m] of Object.entries(members) as [keyof typeof members, MeshConfig][]) {
      sessions[n] = await connect(m);
      files[n] = sessionFiles(b, sessions[n]);
    }
  });

  test("share, list, get (bytes identical), status, delete", async () => {
    // over S3's 5 MiB part size, so the S3 run is a real multipart upload
    const bytes = random(6 * 1024 * 1024 + 123);
    const shared = await files.Alice.upload(write("api-contract.yaml", bytes), { tags: ["api", "auth"], name: "Auth v2 Contract.yaml" });
    expect(shared).toMatchObject({
      name: "Auth v2 Contract.yaml",
      storedName: "Auth v2 Contract.yaml",
      size: bytes.length,
      tags: ["api", "auth"],
      persistent: true,
      uploadedBy: "Alice",
      expiresAt: null,
    });
    expect(shared.id).toMatch(/^f_/);
    expect(shared.mimeType).toContain("yaml");
    expect(await storedKeys(b, s3)).toContainEqual(expect.stringContaining(`shared/${shared.id}/Auth v2 Contract.yaml`));

    for (const q of [{}, { query: "auth" }, { query: "API" }, { query: "contract" }, { from: "Alice" }]) {
      expect((await files.Bob.list(q)).map((f) => f.id)).toContain(shared.id);
    }
    expect((await files.Bob.list({ query: "nothing-like-it" })).map((f) => f.id)).not.toContain(shared.id);
    expect((await files.Bob.list({ from: "Carol" })).map((f) => f.id)).not.toContain(shared.id);
    // another mesh sees nothing of it
    expect((await files.Dave.list()).map((f) => f.id)).not.toContain(shared.id);

    const got = await files.Bob.download(shared.id, work.path + "/bob/");
    expect(got.path).toBe(join(work.path, "bob", "Auth v2 Contract.yaml"));
    expect(Buffer.compare(readFileSync(got.path), Buffer.from(bytes))).toBe(0);

    const status = await files.Alice.status(shared.id);
    expect(status.accesses.map((a) => [a.peerName, a.sessionPubkey])).toEqual([["Bob", sessions.Bob.sessionPubkey]]);

    // only the uploader's member (or an owner/admin) deletes
    expect(await outcome(files.Bob.remove(shared.id))).toBe("forbidden");
    const ticket = await files.Carol.ticket(shared.id);
    expect((await files.Alice.remove(shared.id)).deleted).toBe(true);
    expect(await outcome(files.Bob.ticket(shared.id))).toBe("file_deleted");
    expect(await outcome(files.Bob.download(shared.id, work.path + "/again/"))).toBe("file_deleted");
    const late = await fetchRaw(b, ticket.url);
    expect(late.status).toBe(410);
    expect(late.json.error.code).toBe("file_deleted");
    expect((await files.Bob.list()).map((f) => f.id)).not.toContain(shared.id);
    expect((await storedKeys(b, s3)).filter((k) => k.includes(shared.id))).toEqual([]);
  });

  test("get_file's save_to: a directory gets the sanitised name, a path is the file, existing files need overwrite", async () => {
    const f = await files.Alice.upload(write("notes.md", "# notes\n"), {});
    const dir = join(work.path, "dl");
    await files.Bob.download(f.id, dir + "/");
    expect(readFileSync(join(dir, "notes.md"), "utf8")).toBe("# notes\n");
    // an existing directory without the slash is a directory too
    expect(await outcome(files.Bob.download(f.id, dir))).toBe("invalid_argument");
    const err = (await files.Bob.download(f.id, dir).catch((e) => e)) as WireError;
    expect(err.message).toContain("overwrite");
    writeFileSync(join(dir, "notes.md"), "mine");
    expect(await outcome(files.Bob.download(f.id, join(dir, "notes.md")))).toBe("invalid_argument");
    expect(readFileSync(join(dir, "notes.md"), "utf8")).toBe("mine");
    await files.Bob.download(f.id, join(dir, "notes.md"), { overwrite: true });
    expect(readFileSync(join(dir, "notes.md"), "utf8")).toBe("# notes\n");
    await files.Bob.download(f.id, join(dir, "renamed.txt"));
    expect(readFileSync(join(dir, "renamed.txt"), "utf8")).toBe("# notes\n");
  });

  test("an attachment is readable by its recipients' members and the sender's, by nobody else", async () => {
    const bytes = random(4096);
    const a = await files.Alice.upload(write("screenshot.png", bytes), { to: "Bob" });
    expect(a).toMatchObject({ persistent: false, mimeType: "image/png" });
    expect(a.expiresAt).toBe(a.uploadedAt + DAY);
    expect(await storedKeys(b, s3)).toContainEqual(
      expect.stringContaining(`ephemeral/${new Date(a.uploadedAt).toISOString().slice(0, 10)}/${a.id}/screenshot.png`),
    );

    // Bob, and another session of Bob's member, read it
    const bob2 = sessionFiles(b, await connect(members.Bob));
    for (const who of [files.Bob, bob2, files.Alice]) {
      const got = await who.download(a.id, join(work.path, `att-${Math.random()}`));
      expect(Buffer.compare(readFileSync(got.path), Buffer.from(bytes))).toBe(0);
    }
    expect((await files.Bob.list()).map((f) => f.id)).toContain(a.id);

    // Carol is in the mesh but not a recipient; Dave is in another mesh
    expect(await outcome(files.Carol.ticket(a.id))).toBe("forbidden");
    expect(await outcome(files.Carol.status(a.id))).toBe("forbidden");
    expect(await outcome(files.Carol.download(a.id, join(work.path, "carol")))).toBe("forbidden");
    expect(existsSync(join(work.path, "carol"))).toBe(false);
    expect((await files.Carol.list()).map((f) => f.id)).not.toContain(a.id);
    expect(await outcome(files.Dave.ticket(a.id))).toBe("not_found");

    // a group target resolves to the members of its sessions; an unknown target stores nothing
    const keysBefore = await storedKeys(b, s3);
    expect(await outcome(files.Alice.upload(write("x.txt", "x"), { to: "Nobody" }))).toBe("unknown_target");
    expect(await storedKeys(b, s3)).toEqual(keysBefore);
    const all = await files.Alice.upload(write("all.txt", "for everyone"), { to: "*" });
    expect(await outcome(files.Carol.ticket(all.id))).toBe("ok");
    expect(await outcome(files.Dave.ticket(all.id))).toBe("not_found");
  });

  test("attachments expire after 24 h: get says so, the sweep removes the bytes, old URLs stop working", async () => {
    const a = await files.Alice.upload(write("log.txt", "boom"), { to: "Bob" });
    const ticket = await files.Bob.ticket(a.id);
    clock += DAY - 1000;
    expect(await outcome(files.Bob.ticket(a.id))).toBe("ok");
    clock += 2000;
    const err = (await files.Bob.ticket(a.id).catch((e) => e)) as WireError;
    expect(err.code).toBe("file_expired");
    expect(err.message).toContain("expired");
    expect((await files.Bob.list()).map((f) => f.id)).not.toContain(a.id);
    expect((await storedKeys(b, s3)).filter((k) => k.includes(a.id)).length).toBe(1);
    await b.broker.housekeeping();
    expect((await storedKeys(b, s3)).filter((k) => k.includes(a.id))).toEqual([]);
    expect(await outcome(files.Bob.ticket(a.id))).toBe("file_expired");
    const late = await fetchRaw(b, ticket.url);
    expect(late.status).toBe(403); // the URL itself expired (5 min) long before
    // shared files never expire
    const s = await files.Alice.upload(write("keep.txt", "keep"), {});
    clock += 400 * DAY;
    await b.broker.housekeeping();
    expect(await outcome(files.Bob.ticket(s.id))).toBe("ok");
  });

  test("forged, altered and expired download URLs get a clear error and no bytes", async () => {
    const secret = "top secret contents";
    const f = await files.Alice.upload(write("secret.txt", secret), {});
    const { url } = await files.Bob.ticket(f.id);
    const u = new URL(url, b.url);
    const variants: [string, (q: URLSearchParams) => void][] = [
      ["forged signature", (q) => q.set("sig", "A".repeat(43))],
      ["no signature", (q) => q.delete("sig")],
      ["another downloader's name", (q) => q.set("name", "Carol")],
      ["another member", (q) => q.set("member", members.Carol.memberId)],
      ["another mesh", (q) => q.set("mesh", members.Dave.meshId)],
      ["a later expiry", (q) => q.set("exp", String(Number(q.get("exp")) + 60_000))],
    ];
    for (const [what, change] of variants) {
      const q = new URLSearchParams(u.search);
      change(q);
      const res = await fetchRaw(b, `${u.pathname}?${q}`);
      expect([what, res.status, res.json?.error?.code]).toEqual([what, 403, "bad_download_url"]);
      expect(new TextDecoder().decode(res.body)).not.toContain(secret);
    }
    // another file's id under this file's signature
    const other = await files.Alice.upload(write("other.txt", "other"), {});
    const swapped = await fetchRaw(b, u.pathname.replace(f.id, other.id) + u.search);
    expect([swapped.status, swapped.json?.error?.code]).toEqual([403, "bad_download_url"]);

    expect((await fetchRaw(b, url)).status).toBe(200);
    clock += 5 * 60_000 + 1;
    const expired = await fetchRaw(b, url);
    expect([expired.status, expired.json?.error?.code]).toEqual([403, "bad_download_url"]);
    expect(expired.json.error.message).toContain("expired");
    // only the one real download was recorded
    expect((await files.Alice.status(f.id)).accesses.length).toBe(1);
  });

  test("every file route refuses a missing, wrong or foreign token", async () => {
    const f = await files.Alice.upload(write("t.txt", "t"), {});
    const bad = ["", "nope", "cmf1.e30.AAAA", sessions.Alice.ack?.token + "x"];
    const keysBefore = await storedKeys(b, s3);
    for (const token of bad) {
      const c = new FilesClient(b.url, () => token);
      expect(await outcome(c.upload(write("u.txt", "u"), {}))).toBe("unauthorized");
      expect(await outcome(c.list())).toBe("unauthorized");
      expect(await outcome(c.ticket(f.id))).toBe("unauthorized");
      expect(await outcome(c.status(f.id))).toBe("unauthorized");
      expect(await outcome(c.remove(f.id))).toBe("unauthorized");
    }
    expect(await storedKeys(b, s3)).toEqual(keysBefore);
    expect(await outcome(files.Alice.ticket(f.id))).toBe("ok");
  });

  test("a CLI without a session gets an upload token with a member-signed request", async () => {
    const tok = await brokerRequest(b.url, "POST", "/files/token", FileToken, { auth: { kind: "member", mesh: members.Carol } });
    const cli = new FilesClient(b.url, () => tok.token);
    const f = await cli.upload(write("from-cli.txt", "cli"), { tags: ["cli"] });
    expect(f.uploadedBy).toBe("Carol");
    expect((await files.Bob.list({ from: "Carol" })).map((x) => x.id)).toContain(f.id);
    await cli.download(f.id, join(work.path, "cli-copy.txt"));
    expect((await files.Carol.status(f.id)).accesses).toMatchObject([{ peerName: "Carol", sessionPubkey: null }]);
    // attachments need a live session to resolve their recipients
    expect(await outcome(cli.upload(write("x.txt", "x"), { to: "Bob" }))).toBe("unauthorized");
    // unsigned, or signed by nobody
    expect(await outcome(brokerRequest(b.url, "POST", "/files/token", FileToken, {}))).toBe("unauthorized");
    // an expired token
    clock += 16 * 60_000;
    expect(await outcome(cli.list())).toBe("unauthorized");
  });

  test("hostile names are sanitised for storage, kept for display, or refused clearly", async () => {
    const cases: [string, string][] = [
      ["../../etc/passwd", "etc_passwd"],
      ["..\\..\\boot.ini", "boot.ini"],
      ["a\u0000b\u0007c\u202e.txt", "abc.txt"],
      ["/abs/path.txt", "abs_path.txt"],
      ["..", "file"],
      [".hidden", "hidden"],
    ];
    for (const [raw, stored] of cases) {
      const f = await files.Alice.upload(write("hostile.bin", raw), { name: raw });
      expect([raw, f.storedName]).toEqual([raw, stored]);
      expect(f.name).not.toMatch(/[\u0000-\u001f\u202e]/);
      const got = await files.Bob.download(f.id, join(work.path, "hostile") + "/", { overwrite: true });
      expect(got.path).toBe(join(work.path, "hostile", stored));
      expect(readFileSync(got.path, "utf8")).toBe(raw);
    }
    expect(existsSync("/etc/passwd.cm")).toBe(false);
    for (const k of await storedKeys(b, s3)) expect(k).not.toContain("..");

    const long = await files.Alice.upload(write("l.bin", "l"), { name: `${"n".repeat(250)}.txt` });
    expect(Buffer.byteLength(long.storedName)).toBeLessThanOrEqual(200);
    expect(long.storedName.endsWith(".txt")).toBe(true);
    const err = (await files.Alice.upload(write("l.bin", "l"), { name: "x".repeat(10_000) }).catch((e) => e)) as WireError;
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toContain("255");
    expect(await outcome(files.Alice.upload(write("l.bin", "l"), { name: "\u0000\u0001" }))).toBe("invalid_argument");

    // the same name twice: two files, each with its own bytes
    const one = await files.Alice.upload(write("same.txt", "one"), {});
    const two = await files.Bob.upload(write("same.txt", "two"), {});
    expect(one.id).not.toBe(two.id);
    expect(readFileSync((await files.Carol.download(one.id, join(work.path, "c1.txt"))).path, "utf8")).toBe("one");
    expect(readFileSync((await files.Carol.download(two.id, join(work.path, "c2.txt"))).path, "utf8")).toBe("two");
  });
});

describe.each(cases)("file size limit and mesh quota on %s", (name, blob) => {
  let s3: TestS3 | null = null;
  let b: TestBroker;
  let work: ReturnType<typeof tempDir>;
  let alice: FilesClient;
  let aliceSession: BrokerClient;
  suiteFixture(async (stack) => {
    if (blob === "s3") s3 = stack.use(await startS3());
    b = stack.use(await startFilesBroker(dbOf(name), s3, { files: { maxFileBytes: 1000, meshQuotaBytes: 2500 } }));
    work = stack.use(tempDir("cm-files-"));
    const mesh = await createMesh(b, "quota");
    aliceSession = await connect(await addMember(b, mesh, "Alice"));
    alice = sessionFiles(b, aliceSession);
  });
  const file = (n: number) => {
    const p = join(work.path, `f${n}-${Math.random()}`);
    writeFileSync(p, random(n));
    return p;
  };
  const keys = () => storedKeys(b, s3);

  test("past --max-file-size: a clear error and nothing stored, with or without a content length", async () => {
    const err = (await alice.upload(file(1001)).catch((e) => e)) as WireError;
    expect(err.code).toBe("file_too_large");
    expect(err.message).toContain("--max-file-size");
    expect(await keys()).toEqual([]);
    // chunked, no length: refused as the bytes arrive
    const chunks = [random(600), random(600)];
    const res = await fetch(`${b.url}/upload?name=big.bin`, {
      method: "POST",
      headers: { authorization: `Bearer ${aliceSession.ack?.token}` },
      body: new ReadableStream({
        pull(ctl) {
          const c = chunks.shift();
          if (c) ctl.enqueue(c);
          else ctl.close();
        },
      }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe("file_too_large");
    expect(await keys()).toEqual([]);
    expect(await alice.list()).toEqual([]);
    expect((await alice.upload(file(1000))).size).toBe(1000);
  });

  test("past --mesh-storage-quota: a clear error and nothing stored; deleting frees room", async () => {
    const before = await keys();
    const second = await alice.upload(file(1000));
    const err = (await alice.upload(file(600)).catch((e) => e)) as WireError;
    expect(err.code).toBe("storage_quota_exceeded");
    expect(err.message).toContain("--mesh-storage-quota");
    expect(await keys()).toEqual([...before, ...(await keys()).filter((k) => k.includes(second.id))].sort());
    expect((await alice.upload(file(500))).size).toBe(500);
    await alice.remove(second.id);
    expect((await alice.upload(file(900))).size).toBe(900);
  });
});
