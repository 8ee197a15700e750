import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const BIN = join(ROOT, "dist", "claudemesh");
export const BUN = process.execPath;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let building: Promise<string> | null = null;

/** The compiled binary, rebuilt first if it is missing or older than any source file. */
export function ensureBinary(): Promise<string> {
  building ??= (async () => {
    const stale =
      !existsSync(BIN) ||
      statSync(BIN).mtimeMs < Math.max(newestSource(join(ROOT, "src")), statSync(join(ROOT, "CLAUDEMESH.md"), { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (stale) {
      const p = Bun.spawn([BUN, join(ROOT, "scripts/build.ts")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      if ((await p.exited) !== 0) throw new Error(`build failed: ${await new Response(p.stderr).text()}`);
    }
    return BIN;
  })();
  return building;
}
