/**
 * `npm run bench`: runs every scripts/bench/*.bench.ts in name order. Each exports
 * `async function run(): Promise<void>` and prints its own lines. Optional arguments pick benches by
 * name: `bun scripts/bench.ts recall`. A failing bench is reported and the others still run.
 * `--smoke` runs the scale bench alone, small (CI: `npm run bench -- --smoke`, well under a minute).
 */
import { join } from "node:path";

const dir = join(import.meta.dir, "bench");
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
if (smoke) process.env.BENCH_SMOKE = "1";
const only = smoke ? ["scale"] : args.filter((a) => !a.startsWith("--"));
const files = [...new Bun.Glob("*.bench.ts").scanSync({ cwd: dir })].sort().filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) console.log(`no benches in ${dir}${only.length ? ` matching ${only.join(", ")}` : ""}`);

for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, "");
  console.log(`\n== ${name}`);
  const started = performance.now();
  try {
    const mod = (await import(join(dir, file))) as { run?: () => Promise<void> };
    if (typeof mod.run !== "function") throw new Error(`${file} does not export run()`);
    await mod.run();
    console.log(`== ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    console.error(`== ${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  }
}
