/** One place for how `claudemesh` is compiled, shared by `npm run build` and `npm run release`. */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The commit being built (with `-dirty` when the tree has changes), or "unknown" outside git. */
export function gitCommit(): string {
  const rev = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { stdout: "pipe", stderr: "ignore" });
  if (rev.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { stdout: "pipe", stderr: "ignore" });
  return rev.stdout.toString().trim() + (dirty.stdout.toString().trim() ? "-dirty" : "");
}

/**
 * `bun build --compile` of the CLI. A compiled binary must not read a `.env` or `bunfig.toml` from the
 * directory it is started in: Claude Code starts `claudemesh mcp` inside the user's project, whose
 * `.env` could otherwise set CLAUDEMESH_HOME (another identity) or DATABASE_URL (#10 item 11).
 */
export function compileArgs(opts: { outfile: string; commit: string; target?: string; executablePath?: string }): string[] {
  return [
    process.execPath,
    "build",
    "--compile",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "--minify-syntax",
    // bytecode: the binary starts without parsing its ~10 MB bundle (`claudemesh mcp` cold start 184 → 97 ms,
    // `--version` 127 → 36 ms); ESM, because the CLI's entry awaits at top level
    "--bytecode",
    "--format=esm",
    // tweetnacl falls back to require("crypto") where no Web Crypto exists; the dashboard page's bundle (an
    // HTML import, built for the browser) refuses that builtin although the package's "browser" field maps
    // it away. Left external it is never reached: browsers, like Bun, take the Web Crypto branch first.
    "--external=crypto",
    "--sourcemap=inline",
    `--define=CLAUDEMESH_COMMIT=${JSON.stringify(opts.commit)}`,
    ...(opts.target ? [`--target=${opts.target}`] : []),
    ...(opts.executablePath ? [`--compile-executable-path=${opts.executablePath}`] : []),
    "src/cli/main.ts",
    // a Worker's entry must be compiled in beside the main one (store/checkpointer.ts starts it)
    "src/store/checkpoint-worker.ts",
    "--outfile",
    opts.outfile,
  ];
}

/**
 * The dashboard page's chunks (an HTML import), and with --bytecode the entry too, get source maps written
 * beside the output even with --sourcemap=inline; the binary embeds what it needs and none of them.
 */
export function removeChunkMaps(dir: string): void {
  for (const f of readdirSync(dir)) if (f.endsWith(".map")) rmSync(join(dir, f), { force: true });
}
