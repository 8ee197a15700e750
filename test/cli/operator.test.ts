import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { backends, tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { freePort, ProcessBroker } from "../helpers/process-broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

/** The quick-start mesh as its operator and a newcomer meet it, through the compiled binary. */
describe.each(backends())("broker output and the operator's `default` mesh on %s", (backend) => {
  let pb: ProcessBroker;
  let bin: string;
  const homes: { path: string; cleanup(): void }[] = [];
  const home = () => {
    const h = tempDir("cm-op-home-");
    homes.push(h);
    return h.path;
  };

  async function cli(homeDir: string, args: string[], extra: Record<string, string> = {}) {
    const env: Record<string, string | undefined> = { ...process.env, CLAUDEMESH_HOME: homeDir, CLAUDEMESH_ADMIN_TOKEN: "", ...extra };
    const p = Bun.spawn([bin, ...args], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err, code };
  }
  const inviteOf = (output: string) => output.match(/claudemesh join '([^']+)'/)?.[1] as string;

  suiteFixture(async (stack) => {
    stack.defer(() => {
      for (const h of homes) h.cleanup();
    });
    bin = await ensureBinary();
    pb = stack.use(new ProcessBroker(backend));
    await pb.start();
    await pb.waitForOutput(/--admin-token "\$\(cat .+\)"\n/);
  });

  test("the first start prints where it listens, its public URL, the token, the invite with its limits and how to mint more", () => {
    const lines = pb.output.split("\n");
    expect(lines[0]).toStartWith(`claudemesh broker listening on 127.0.0.1:${pb.port} (store: ${backend}`);
    expect(lines[1]).toBe(`Public URL (in invites, for clients): ${pb.url}`);
    expect(pb.output).toContain(`Admin token (shown once; also in ${join(pb.dir.path, "admin-token")}, mode 0600):\n  ${pb.adminToken}\n`);
    expect(pb.output).toMatch(
      /Join the default mesh from any Claude Code machine with \((one join|any number of joins), until \d{4}-\d\d-\d\dT[\d:.]+Z\):\n {2}claudemesh join '/,
    );
    expect(inviteOf(pb.output)).toStartWith(`${pb.url}/join/`);
    expect(pb.output).toContain(`  claudemesh invite default --broker ${pb.url} --admin-token "$(cat ${join(pb.dir.path, "admin-token")})"\n`);
  });

  test("a restart on another port, or with --public-url, prints the invite with the URL of this run", async () => {
    const first = new URL(inviteOf(pb.output));
    await pb.stop();
    const port = freePort();
    const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: undefined };
    if (backend === "postgres") Object.assign(env, { DATABASE_URL: process.env.CLAUDEMESH_TEST_DATABASE_URL, CLAUDEMESH_DB_SCHEMA: pb.schema });
    const p = Bun.spawn([bin, "broker", "--port", String(port), "--data-dir", pb.dir.path, "--public-url", "http://example.test:7911/"], {
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const reader = p.stdout.getReader();
    while (!/--admin-token "\$\(cat .+\)"\n/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    p.kill();
    await p.exited;
    expect(out).toStartWith(`claudemesh broker listening on 127.0.0.1:${port} `);
    expect(out).toContain("Public URL (in invites, for clients): http://example.test:7911\n");
    expect(out).not.toContain("Admin token");
    // nobody has joined yet: the same token and key, at the address of this run
    const invite = inviteOf(out);
    expect(invite).toBe(`http://example.test:7911${first.pathname}${first.hash}`);
    expect(readFileSync(join(pb.dir.path, "default-invite.url"), "utf8").trim()).toBe(invite);
    expect(out).toContain("claudemesh invite default --broker http://example.test:7911 --admin-token");
    pb.output = "";
    await pb.start(); // back on its own port for the tests below
    await pb.waitForOutput(/--admin-token "\$\(cat .+\)"\n/);
  }, 30_000);
  test("an invite URL without its #key is refused and spends nothing; doctor fails on a membership without a key", async () => {
    const url = inviteOf(pb.output);
    const h = home();
    const keyless = await cli(h, ["join", url.split("#")[0] as string, "--name", "Hasty"]);
    expect(keyless.code).toBe(1);
    expect(keyless.err.trim()).toBe(
      "claudemesh: this invite URL has lost its key: the part after # is the mesh key. Copy the whole URL and put it in quotes: claudemesh join 'https://…/join/…#…'",
    );
    expect(existsSync(join(h, "config.json"))).toBe(false);
    // the same (possibly one-use) invite still works in full
    expect((await cli(h, ["join", url, "--name", "Hasty"])).code).toBe(0);

    // a membership stored without its key (as older versions allowed) is a doctor failure
    const config = JSON.parse(readFileSync(join(h, "config.json"), "utf8"));
    config.meshes[0].rootKey = null;
    writeFileSync(join(h, "config.json"), JSON.stringify(config), { mode: 0o600 });
    const doctor = await cli(h, ["doctor", "--json"]);
    expect(doctor.code).toBe(1);
    const check = JSON.parse(doctor.out).checks.find((c: { name: string }) => c.name === "mesh key for default");
    expect(check).toMatchObject({ ok: false, detail: expect.stringContaining("group and broadcast messages") });
  }, 30_000);

  test("the operator invites into, lists and revokes from `default` without being a member", async () => {
    const op = home();
    const asOperator = ["--broker", pb.url, "--admin-token", pb.adminToken];
    const minted = await cli(op, ["invite", "default", "--uses", "2", ...asOperator, "--json"]);
    expect(minted.code).toBe(0);
    const { inviteUrl, maxUses } = JSON.parse(minted.out);
    expect(maxUses).toBe(2);
    expect(inviteUrl.split("#")[1]).toBe(inviteOf(pb.output).split("#")[1]); // the mesh's own key, from the broker
    const [alice, bob] = [home(), home()];
    expect((await cli(alice, ["join", inviteUrl, "--name", "Alice"])).code).toBe(0);
    expect((await cli(bob, ["join", inviteUrl, "--name", "Bob"])).code).toBe(0);

    // the token may come from the environment too
    const members = await cli(op, ["members", "default", "--broker", pb.url, "--json"], { CLAUDEMESH_ADMIN_TOKEN: pb.adminToken });
    expect(members.code).toBe(0);
    expect(JSON.parse(members.out).map((m: { displayName: string }) => m.displayName)).toEqual(expect.arrayContaining(["Alice", "Bob"]));
    const revoked = await cli(op, ["members", "revoke", "default", "Bob", ...asOperator]);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toStartWith("Revoked ");
    const status = JSON.parse((await cli(bob, ["status", "--json"])).out);
    expect(status[0]).toMatchObject({ slug: "default", authenticated: false });

    // without the token, a non-member is told what it lacks; a wrong token is refused
    const stranger = await cli(op, ["invite", "default"]);
    expect(stranger.code).toBe(1);
    expect(stranger.err).toContain("the broker's operator can pass --admin-token and --broker");
    const noBroker = await cli(op, ["members", "default", "--admin-token", pb.adminToken]);
    expect(noBroker.err.trim()).toBe('claudemesh: you have not joined "default", so say which broker it is on with --broker URL');
    expect((await cli(op, ["members", "default", "--broker", pb.url, "--admin-token", "wrong"])).code).toBe(1);
  }, 30_000);

  test("for a mesh whose key only its owner has, the operator's invite is refused before anything is minted", async () => {
    const owner = home();
    expect((await cli(owner, ["mesh", "create", "private", "--broker", pb.url, "--admin-token", pb.adminToken, "--name", "Owner"])).code).toBe(0);
    const r = await cli(home(), ["invite", "private", "--broker", pb.url, "--admin-token", pb.adminToken]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("the key of mesh private is neither in your config nor at its broker");
    // the operator still lists and manages its members
    const members = await cli(home(), ["members", "private", "--broker", pb.url, "--admin-token", pb.adminToken, "--json"]);
    expect(JSON.parse(members.out).map((m: { displayName: string }) => m.displayName)).toEqual(["Owner"]);
  }, 30_000);
});

test("a first start that fails (port taken) leaves no admin token behind; the next start shows it", async () => {
  const bin = await ensureBinary();
  const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const dir = tempDir("cm-op-busy-");
  const env = { ...process.env, DATABASE_URL: undefined };
  try {
    const failed = Bun.spawn([bin, "broker", "--port", String(busy.port), "--data-dir", dir.path], { env, stdout: "pipe", stderr: "pipe" });
    expect(await failed.exited).toBe(1);
    expect(existsSync(join(dir.path, "admin-token"))).toBe(false);
    const ok = Bun.spawn([bin, "broker", "--port", "0", "--data-dir", dir.path], { env, stdout: "pipe", stderr: "pipe" });
    let out = "";
    const reader = ok.stdout.getReader();
    while (!out.includes("Mint more invites")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    ok.kill();
    await ok.exited;
    const token = readFileSync(join(dir.path, "admin-token"), "utf8").trim();
    expect(out).toContain(`Admin token (shown once; also in ${join(dir.path, "admin-token")}, mode 0600):\n  ${token}\n`);
  } finally {
    busy.stop(true);
    dir.cleanup();
  }
}, 30_000);
