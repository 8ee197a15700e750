import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/binary.ts";

test("`claudemesh hook context` prints the SessionStart additionalContext carrying CLAUDEMESH.md", async () => {
  const p = Bun.spawn([process.execPath, join(ROOT, "src/cli/main.ts"), "hook", "context"], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, CLAUDEMESH_SESSION_DIR: "" },
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(code).toBe(0);
  expect(err).toBe("");
  const parsed = JSON.parse(out);
  expect(parsed.hookSpecificOutput.hookEventName).toBe("SessionStart");
  expect(parsed.hookSpecificOutput.additionalContext).toBe(readFileSync(join(ROOT, "CLAUDEMESH.md"), "utf8"));
});
