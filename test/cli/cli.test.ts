import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { backends, tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

/** The newcomer's path through the compiled binary: broker, join, list, status, and mesh administration. */
describe.each(backends())("claudemesh CLI (compiled binary) on %s", (backend) => {
  let pb: ProcessBroker;
  let bin: string;
  const owner = tempDir("cm-home-owner-");
  const joiner = tempDir("cm-home-joiner-");

  async function cli(home: string, ...args: string[]) {
    const p = Bun.spawn([bin, ...args], { env: { ...process.env, CLAUDEMESH_HOME: home }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err, code };
  }

  suiteFixture(async (stack) => {
    stack.use(owner);
    stack.use(joiner);
    bin = await ensureBinary();
    pb = stack.use(new ProcessBroker(backend));
    await pb.start();
  });

  test("--version", async () => {
    const { out, code } = await cli(owner.path, "--version");
    expect(code).toBe(0);
    // version and the commit it was built from, baked in by scripts/compile.ts
    expect(out.trim()).toMatch(/^claudemesh \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?\)$/);
  });

  test("first start prints the admin token once and a default-mesh invite; join, list, status", async () => {
    await pb.waitForOutput(/claudemesh join '[^']+'/);
    expect(pb.output).toContain("Admin token (shown once");
    expect(statSync(join(pb.dir.path, "admin-token")).mode & 0o777).toBe(0o600);
    const invite = pb.output.match(/claudemesh join '([^']+)'/)?.[1] as string;
    expect(invite).toContain("#");

    const joined = await cli(joiner.path, "join", invite, "--name", "Newcomer");
    expect(joined.code).toBe(0);
    expect(joined.out).toContain("Joined mesh default as Newcomer");
    expect(statSync(join(joiner.path, "config.json")).mode & 0o777).toBe(0o600);
    expect(statSync(joiner.path).mode & 0o777).toBe(0o700);
    const again = await cli(joiner.path, "join", invite, "--name", "Newcomer");
    expect(again.out).toContain("Already a member of default");

    const list = await cli(joiner.path, "list");
    expect(list.out).toMatch(/default\s+Newcomer\s+member\s+http:\/\/127\.0\.0\.1/);
    const status = await cli(joiner.path, "status", "--json");
    expect(status.code).toBe(0);
    const [probe] = JSON.parse(status.out);
    expect(probe).toMatchObject({ slug: "default", reachable: true, authenticated: true });
    expect(probe.rttMs).toBeGreaterThanOrEqual(0);

    // a restart prints neither the admin token again nor the quick-start invite, which was for one join
    await pb.stop();
    pb.output = "";
    await pb.start();
    await pb.waitForOutput(/Mint more invites/);
    expect(pb.output).not.toContain("Admin token");
    expect(pb.output).not.toContain(invite);
  }, 30_000);

  test("mesh create, invite with limits, members, revoke, leave", async () => {
    const created = await cli(owner.path, "mesh", "create", "dev-team", "--broker", pb.url, "--admin-token", pb.adminToken, "--name", "Owner", "--json");
    expect(created.code).toBe(0);
    const mesh = JSON.parse(created.out);
    expect(mesh.inviteUrl).toContain(`${pb.url}/join/`);

    const bad = await cli(owner.path, "mesh", "create", "other", "--broker", pb.url, "--admin-token", "nope");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("admin token");
    expect(bad.err).not.toContain("[unauthorized]");
    const badJson = await cli(owner.path, "mesh", "create", "other", "--broker", pb.url, "--admin-token", "nope", "--json");
    expect(JSON.parse(badJson.out).error.code).toBe("unauthorized"); // codes stay in --json

    const inv = await cli(owner.path, "invite", "dev-team", "--uses", "1", "--expires", "1h");
    expect(inv.code).toBe(0);
    const url = inv.out.trim().split("\n").pop() as string; // the invite URL is the last line
    expect(url).toStartWith(`${pb.url}/join/`);
    expect(url.split("#")[1]).toBe(mesh.inviteUrl.split("#")[1]); // same mesh root key

    expect((await cli(joiner.path, "join", url, "--name", "Dev")).code).toBe(0);
    const third = tempDir("cm-home-third-");
    const usedUp = await cli(third.path, "join", url, "--name", "Late");
    expect(usedUp.code).toBe(1);
    expect(usedUp.err.trim()).toBe("claudemesh: this invite has no uses left");
    third.cleanup();

    const members = await cli(owner.path, "members", "dev-team", "--json");
    expect(
      JSON.parse(members.out)
        .map((m: { displayName: string }) => m.displayName)
        .sort(),
    ).toEqual(["Dev", "Owner"]);
    const notAdmin = await cli(joiner.path, "invite", "dev-team");
    expect(notAdmin.err.trim()).toBe("claudemesh: only mesh owners and admins may manage invites");

    const revoked = await cli(owner.path, "members", "revoke", "dev-team", "Dev");
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain("Revoked");
    const status = await cli(joiner.path, "status", "--json");
    expect(status.code).toBe(1); // revoked in dev-team, still fine in default
    const probes = JSON.parse(status.out);
    expect(probes.find((p: { slug: string }) => p.slug === "dev-team")).toMatchObject({
      authenticated: false,
      error: expect.stringContaining("member_revoked"),
    });

    // `invite revoke` is a subcommand of `invite`: the revoked invite lets nobody in
    const spare = JSON.parse((await cli(owner.path, "invite", "dev-team", "--json")).out);
    const dropped = await cli(owner.path, "invite", "revoke", "dev-team", spare.inviteId);
    expect(dropped).toMatchObject({ code: 0, out: `Revoked invite ${spare.inviteId} of dev-team.\n` });
    const fourth = tempDir("cm-home-fourth-");
    expect((await cli(fourth.path, "join", spare.inviteUrl, "--name", "Nope")).err.trim()).toBe("claudemesh: this invite has been revoked");
    fourth.cleanup();

    // no --name and no USER, as under cron or in a container: the login name the system knows, not Bun's "unknown"
    const unnamed = JSON.parse((await cli(owner.path, "invite", "dev-team", "--json")).out);
    const fifth = tempDir("cm-home-fifth-");
    const { USER: _u, LOGNAME: _l, USERNAME: _n, ...bare } = process.env;
    const j = Bun.spawnSync([bin, "join", unnamed.inviteUrl, "--json"], { env: { ...bare, CLAUDEMESH_HOME: fifth.path }, stdout: "pipe", stderr: "pipe" });
    expect(j.exitCode).toBe(0);
    const login = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
    expect(login).not.toBe("");
    expect(JSON.parse(j.stdout.toString()).displayName).toBe(login);
    fifth.cleanup();

    const left = await cli(joiner.path, "leave", "default");
    expect(left.code).toBe(0);
    expect((await cli(joiner.path, "list")).out).not.toContain("default ");
  }, 30_000);

  test("bad input is a one-line error without wire codes, never a stack", async () => {
    for (const args of [
      ["join", "not-a-url"],
      ["invite", "nope"],
      ["invite", "dev-team", "--expires", "soon"],
      ["broker", "--port", "99999"],
      ["nodes", "--broker", "not a url", "--admin-token", "t"],
      ["invite", "dev-team", "--broker", "ftp://x", "--admin-token", "t"],
    ]) {
      const r = await cli(owner.path, ...args);
      expect(r.code).toBe(1);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).toMatch(/^claudemesh: [^\n]+$/m);
      expect(r.err).not.toMatch(/\[[a-z_]+\]|\bat \S+:\d+/);
    }
  }, 30_000);
});

test("a broker on a port that is taken says so in one line", async () => {
  const bin = await ensureBinary();
  const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const dir = tempDir("cm-busy-");
  try {
    const p = Bun.spawn([bin, "broker", "--port", String(busy.port), "--data-dir", dir.path], { stdout: "pipe", stderr: "pipe" });
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(1);
    expect(err.trim()).toBe(`claudemesh: port ${busy.port} on 127.0.0.1 is already in use (another broker?); pick another with --port`);
  } finally {
    busy.stop(true);
    dir.cleanup();
  }
});
