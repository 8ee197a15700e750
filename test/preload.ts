// Every test process gets a throwaway HOME and CLAUDEMESH_HOME, so no test can read or write the real
// ~/.claudemesh, and every child process (CLI, broker, claude) inherits the temp HOME unless a test passes
// its own. Bun's os.homedir() keeps the HOME it started with, so in-process code that uses it (install's
// ~/.claude.json) is isolated only by the tests that set a HOME for a subprocess, as they already do.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const home = mkdtempSync(join(tmpdir(), "cm-test-home-"));
process.env.HOME = home;
process.env.CLAUDEMESH_HOME = join(home, ".claudemesh");
process.on("exit", () => rmSync(home, { recursive: true, force: true }));
