import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { progressBar } from "../../src/cli/progress.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

/** `claudemesh share`, `files` and `get` through the compiled binary against a broker process. */
describe("file commands (compiled binary)", () => {
  let pb: ProcessBroker;
  let bin: string;
  const alice = tempDir("cm-home-alice-");
  const bob = tempDir("cm-home-bob-");
  const work = tempDir("cm-cli-files-");

  async function cli(home: string, ...args: string[]) {
    const env: Record<string, string | undefined> = { ...process.env, CLAUDEMESH_HOME: home };
    delete env.CLAUDEMESH_MESH;
    const p = Bun.spawn([bin, ...args], { env, cwd: work.path, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err, code };
  }

  suiteFixture(async (stack) => {
    for (const d of [alice, bob, work]) stack.use(d);
    bin = await ensureBinary();
    pb = stack.use(new ProcessBroker("sqlite"));
    await pb.start();
    await pb.waitForOutput(/claudemesh join '[^']+'/);
    const invite = pb.output.match(/claudemesh join '([^']+)'/)?.[1] as string;
    expect((await cli(alice.path, "join", invite, "--name", "Alice")).code).toBe(0);
    // The quick-start invite is good for one join (#10): the operator mints Bob's.
    const minted = await cli(work.path, "invite", "default", "--broker", new URL(invite).origin, "--admin-token", pb.adminToken, "--json");
    expect(minted.code).toBe(0);
    const bobInvite = (JSON.parse(minted.out) as { inviteUrl: string }).inviteUrl;
    expect((await cli(bob.path, "join", bobInvite, "--name", "Bob")).code).toBe(0);
    // may build the binary first, and starts a broker process: slow on a busy machine
  }, 120_000);

  test("share with tags and a name, files finds it, get downloads the same bytes; --json throughout", async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(300_000));
    writeFileSync(join(work.path, "wireframes.pdf"), bytes);
    const shared = await cli(alice.path, "share", "wireframes.pdf", "--tags", "ui,auth", "--name", "Login wireframes.pdf", "--json");
    expect(shared.err).toBe("");
    expect(shared.code).toBe(0);
    const f = JSON.parse(shared.out);
    expect(f).toMatchObject({ name: "Login wireframes.pdf", size: 300_000, tags: ["ui", "auth"], uploadedBy: "Alice", mimeType: "application/pdf" });

    const human = await cli(bob.path, "files", "auth");
    expect(human.code).toBe(0);
    expect(human.out).toMatch(new RegExp(`${f.id}\\s+Login wireframes\\.pdf\\s+293 KB\\s+ui,auth\\s+Alice`));
    const listed = JSON.parse((await cli(bob.path, "files", "--from", "Alice", "--json")).out);
    expect(listed.map((x: { id: string }) => x.id)).toEqual([f.id]);
    expect((await cli(bob.path, "files", "nothing-like-it")).out.trim()).toBe("No files.");

    const got = await cli(bob.path, "get", f.id, "downloads/");
    expect(got.code).toBe(0);
    expect(got.out.trim()).toBe(`Saved Login wireframes.pdf (293 KB) to ${join(work.path, "downloads", "Login wireframes.pdf")}.`);
    // not a TTY: no progress bar on stderr
    expect(got.err).toBe("");
    expect(Buffer.compare(readFileSync(join(work.path, "downloads", "Login wireframes.pdf")), Buffer.from(bytes))).toBe(0);

    const again = await cli(bob.path, "get", f.id, "downloads/");
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists; pass overwrite/);
    expect((await cli(bob.path, "get", f.id, "downloads/", "--overwrite", "--json")).code).toBe(0);
    // nine runs of the binary
  }, 60_000);

  test("errors are one line; with --json also a JSON document", async () => {
    const missing = await cli(alice.path, "share", "no-such-file.txt");
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe("claudemesh: cannot read no-such-file.txt: no such file");
    const unknown = await cli(bob.path, "get", "f_doesnotexist", "--json");
    expect(unknown.code).toBe(1);
    expect(unknown.err.trim()).toBe("claudemesh: no file f_doesnotexist in this mesh");
    expect(JSON.parse(unknown.out)).toEqual({ error: { code: "not_found", message: "no file f_doesnotexist in this mesh" } });
    // the command line itself is checked: unknown flags are usage errors
    expect((await cli(alice.path, "share", "x", "--tagz", "a")).code).toBe(2);
  }, 30_000);
});

describe("progress bar", () => {
  function fakeTty(isTTY: boolean) {
    const out: string[] = [];
    return { stream: { isTTY, write: (s: string) => void out.push(s) } as unknown as NodeJS.WriteStream, out };
  }

  test("drawn on a terminal once a transfer takes more than a moment: bytes, rate, ETA; a newline at the end", () => {
    let t = 0;
    const { stream, out } = fakeTty(true);
    const bar = progressBar("uploading", stream, () => t);
    bar.update(1024, 10 * 1024 * 1024);
    expect(out).toEqual([]); // too early
    t = 1000;
    bar.update(5 * 1024 * 1024, 10 * 1024 * 1024);
    expect(out.length).toBe(1);
    expect(out[0]).toContain("50%");
    expect(out[0]).toContain("5.0 MB/10 MB");
    expect(out[0]).toContain("5.0 MB/s");
    expect(out[0]).toContain("ETA 1s");
    t = 2000;
    bar.finish(10 * 1024 * 1024, 10 * 1024 * 1024);
    expect(out.at(-2)).toContain("100%");
    expect(out.at(-1)).toBe("\n");
  });

  test("never on a pipe, and never for a quick transfer", () => {
    let t = 0;
    const pipe = fakeTty(false);
    const a = progressBar("x", pipe.stream, () => t);
    t = 5000;
    a.update(1, 2);
    a.finish(2, 2);
    expect(pipe.out).toEqual([]);
    const tty = fakeTty(true);
    t = 0;
    const quick = progressBar("x", tty.stream, () => t);
    t = 100;
    quick.finish(2, 2);
    expect(tty.out).toEqual([]);
  });
});
