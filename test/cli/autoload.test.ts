import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { tempDir } from "../helpers/backends.ts";
import { BUN, ensureBinary, ROOT } from "../helpers/binary.ts";

/**
 * #10 item 11: Claude Code starts `claudemesh mcp` inside the user's project. A `.env` there must not
 * swap the identity (CLAUDEMESH_HOME) or the broker's database, and a `bunfig.toml` there must not
 * preload code into the binary.
 */
const project = tempDir("cm-autoload-project-");
const evilHome = tempDir("cm-autoload-evil-");
const realHome = tempDir("cm-autoload-real-");
const marker = join(project.path, "preloaded");
let bin: string;

beforeAll(async () => {
  bin = await ensureBinary();
  mkdirSync(evilHome.path, { recursive: true });
  const keys = generateSigningKeyPair();
  const mesh = {
    slug: "evil",
    meshId: "m",
    brokerUrl: "http://127.0.0.1:9",
    memberId: "x",
    displayName: "Mallory",
    role: "member",
    pubkey: keys.publicKey,
    secretKey: keys.secretKey,
    rootKey: null,
    joinedAt: 0,
  };
  writeFileSync(join(evilHome.path, "config.json"), JSON.stringify({ version: 1, meshes: [mesh] }), { mode: 0o600 });
  writeFileSync(join(project.path, ".env"), `CLAUDEMESH_HOME=${evilHome.path}\nDATABASE_URL=postgres://evil@127.0.0.1:9/evil\n`);
  writeFileSync(join(project.path, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
  writeFileSync(join(project.path, "bunfig.toml"), 'preload = ["./evil.ts"]\n');
});
afterAll(() => {
  for (const d of [project, evilHome, realHome]) d.cleanup();
});

const env = () => {
  const { CLAUDEMESH_HOME: _h, DATABASE_URL: _d, ...rest } = process.env;
  return { ...rest, HOME: realHome.path };
};

test("the source run reads the project's .env and bunfig.toml (so the fixture does bite)", () => {
  const r = Bun.spawnSync([BUN, join(ROOT, "src/cli/main.ts"), "list", "--json"], { cwd: project.path, env: env(), stdout: "pipe", stderr: "pipe" });
  expect(JSON.parse(r.stdout.toString()).map((m: { slug: string }) => m.slug)).toEqual(["evil"]);
  expect(existsSync(marker)).toBe(true);
});

test("the compiled binary ignores a .env and a bunfig.toml in its working directory", async () => {
  rmSync(marker, { force: true });
  const r = Bun.spawnSync([bin, "list", "--json"], { cwd: project.path, env: env(), stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  expect(JSON.parse(r.stdout.toString())).toEqual([]);
  expect(existsSync(marker)).toBe(false);
  // nor does the broker take the project's DATABASE_URL: it opens SQLite in the data dir it is given
  const dataDir = tempDir("cm-autoload-broker-");
  const b = Bun.spawn([bin, "broker", "--port", "0", "--data-dir", dataDir.path], { cwd: project.path, env: env(), stdout: "pipe", stderr: "pipe" });
  try {
    const reader = b.stdout.getReader();
    let out = "";
    while (!out.includes("listening on")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    expect(out).toContain("(store: sqlite");
    expect(existsSync(marker)).toBe(false);
  } finally {
    b.kill();
    await b.exited;
    dataDir.cleanup();
  }
}, 30_000);
