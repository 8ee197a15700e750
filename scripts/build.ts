/** Compiles the whole CLI (broker + client) into one self-contained binary: dist/claudemesh. */
import { mkdirSync } from "node:fs";
import { compileArgs, gitCommit, removeChunkMaps } from "./compile.ts";

mkdirSync("dist", { recursive: true });
const proc = Bun.spawnSync(compileArgs({ outfile: "dist/claudemesh", commit: gitCommit() }), { stdout: "inherit", stderr: "inherit" });
if (proc.exitCode !== 0) process.exit(proc.exitCode ?? 1);
removeChunkMaps("dist");
const version = Bun.spawnSync(["dist/claudemesh", "--version"]);
if (version.exitCode !== 0) {
  process.stderr.write("dist/claudemesh --version failed\n");
  process.exit(1);
}
process.stdout.write(`built dist/claudemesh ${version.stdout.toString().trim()}\n`);
