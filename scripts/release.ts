/**
 * `npm run release [-- --targets linux-x64,darwin-arm64] [--base-url URL]`: cross-compiles claudemesh
 * into dist/release/ with SHA256SUMS and install.sh.
 *
 * Bun cross-compiles by embedding the bundle in the target's own bun executable. Bun would download
 * that from its own servers; here it comes from the npm registry instead (`npm pack @oven/bun-<target>`
 * of this very Bun version), cached in ~/.cache/claudemesh-release. A target whose runtime cannot be
 * had is reported by name and makes the run fail; the others are still built.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { compileArgs, gitCommit, removeChunkMaps } from "./compile.ts";

export const TARGETS = {
  "linux-x64": { bun: "bun-linux-x64", npm: "@oven/bun-linux-x64", exe: "" },
  "linux-arm64": { bun: "bun-linux-arm64", npm: "@oven/bun-linux-aarch64", exe: "" },
  "darwin-x64": { bun: "bun-darwin-x64", npm: "@oven/bun-darwin-x64", exe: "" },
  "darwin-arm64": { bun: "bun-darwin-arm64", npm: "@oven/bun-darwin-aarch64", exe: "" },
  "windows-x64": { bun: "bun-windows-x64", npm: "@oven/bun-windows-x64", exe: ".exe" },
} as const;
type Target = keyof typeof TARGETS;

const { values } = parseArgs({
  options: { targets: { type: "string" }, "base-url": { type: "string" }, out: { type: "string", default: "dist/release" } },
});
const wanted = (values.targets?.split(",") ?? Object.keys(TARGETS)) as Target[];
for (const t of wanted) if (!(t in TARGETS)) throw new Error(`unknown target ${t} (known: ${Object.keys(TARGETS).join(", ")})`);
const out = values.out as string;
const bunVersion = Bun.version;
const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "claudemesh-release", bunVersion);

/** The target's bun executable, from the npm registry (cached); throws with the reason when it cannot. */
function runtime(t: Target): string {
  const { npm, exe } = TARGETS[t];
  const dir = join(cache, t);
  const bin = join(dir, "package", "bin", `bun${exe}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const pack = Bun.spawnSync(["npm", "pack", `${npm}@${bunVersion}`, "--pack-destination", dir, "--silent"], { stdout: "pipe", stderr: "pipe" });
  const tgz = pack.stdout.toString().trim().split("\n").pop() ?? "";
  if (pack.exitCode !== 0 || !tgz) throw new Error(`npm pack ${npm}@${bunVersion} failed: ${pack.stderr.toString().trim().split("\n").pop()}`);
  const untar = Bun.spawnSync(["tar", "xzf", join(dir, tgz), "-C", dir], { stderr: "pipe" });
  if (untar.exitCode !== 0 || !existsSync(bin)) throw new Error(`could not unpack ${tgz}: ${untar.stderr.toString().trim()}`);
  rmSync(join(dir, tgz));
  return bin;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const commit = gitCommit();
const built: string[] = [];
const failed: string[] = [];
for (const t of wanted) {
  const name = `claudemesh-${t}${TARGETS[t].exe}`;
  try {
    const args = compileArgs({ outfile: join(out, name), commit, target: TARGETS[t].bun, executablePath: runtime(t) });
    const p = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(p.stderr.toString().trim());
    // A cross-compiled binary gets its source map beside it; the release ships binaries only.
    rmSync(join(out, `${name}.map`), { force: true });
    removeChunkMaps(out);
    built.push(name);
    process.stdout.write(`built ${name}\n`);
  } catch (err) {
    failed.push(`${t}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const sums = built.map((name) => `${new Bun.CryptoHasher("sha256").update(readFileSync(join(out, name))).digest("hex")}  ${name}`);
writeFileSync(join(out, "SHA256SUMS"), sums.join("\n") + "\n");
// The installer's default download location is baked in here; without --base-url it must be given at install time.
const installer = readFileSync("scripts/install.sh", "utf8").replace("@BASE_URL@", values["base-url"] ?? "");
writeFileSync(join(out, "install.sh"), installer);
chmodSync(join(out, "install.sh"), 0o755);
process.stdout.write(`claudemesh ${pkg.version} (commit ${commit}): ${built.length} binaries, SHA256SUMS and install.sh in ${out}\n`);
if (failed.length > 0) {
  process.stderr.write(`could not build on this machine:\n${failed.map((f) => `  ${f}`).join("\n")}\n`);
  process.exit(1);
}
