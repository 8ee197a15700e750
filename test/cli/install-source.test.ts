import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/backends.ts";
import { BUN, ROOT } from "../helpers/binary.ts";

/** `install` run from a checkout: it says it registers that checkout, or registers a compiled claudemesh on PATH. */
const MAIN = join(ROOT, "src/cli/main.ts");
let t: { path: string; cleanup(): void };
beforeEach(() => {
  t = tempDir("cm-install-src-");
  mkdirSync(join(t.path, "home"));
  mkdirSync(join(t.path, "bin"));
});
afterEach(() => t.cleanup());

async function install(path: string) {
  const p = Bun.spawn([BUN, MAIN, "install"], {
    env: { PATH: path, HOME: join(t.path, "home"), CLAUDEMESH_HOME: join(t.path, "cm") },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out] = await Promise.all([p.exited, new Response(p.stdout).text()]);
  const mcp = JSON.parse(readFileSync(join(t.path, "home", ".claude.json"), "utf8")).mcpServers.claudemesh;
  return { code, out, mcp };
}

test("from a checkout without a compiled claudemesh: the checkout is registered, and install says what that means", async () => {
  const r = await install(`${join(t.path, "bin")}:/usr/bin:/bin`);
  expect(r.code).toBe(0);
  expect(r.mcp).toMatchObject({ command: BUN, args: [MAIN, "mcp"] });
  expect(r.out).toContain(`Registered this checkout: Claude Code will run \`${BUN} ${MAIN}\`, so moving or deleting it breaks the registration.`);
});

test("a compiled claudemesh on PATH is registered instead; a from-source wrapper on PATH is not", async () => {
  // the checkout's own bin/claudemesh runs from source: its --version says so, and it is not taken
  const wrapper = join(t.path, "bin", "claudemesh");
  writeFileSync(wrapper, `#!/bin/sh\nexec ${BUN} ${MAIN} "$@"\n`);
  chmodSync(wrapper, 0o755);
  expect((await install(`${join(t.path, "bin")}:/usr/bin:/bin`)).mcp.command).toBe(BUN);
  // a stand-in for a release binary: its version names a commit
  writeFileSync(wrapper, `#!/bin/sh\necho "claudemesh 0.1.0 (commit 0123456789ab)"\n`);
  const r = await install(`${join(t.path, "bin")}:/usr/bin:/bin`);
  expect(r.mcp).toMatchObject({ command: wrapper, args: ["mcp"] });
  expect(r.out).toContain(`Registered ${wrapper}.`);
  expect(r.out).not.toContain("Registered this checkout");
});
