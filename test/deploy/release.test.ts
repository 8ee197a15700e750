import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { tempDir } from "../helpers/backends.ts";
import { BUN, ROOT } from "../helpers/binary.ts";

/** What an executable's header says it is: format and CPU. */
function identify(file: string): string {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) === 0x7f454c46) return `ELF ${({ 0x3e: "x64", 0xb7: "arm64" } as Record<number, string>)[b.readUInt16LE(0x12)] ?? "?"}`;
  if (b.readUInt32LE(0) === 0xfeedfacf) return `Mach-O ${({ 0x01000007: "x64", 0x0100000c: "arm64" } as Record<number, string>)[b.readUInt32LE(4)] ?? "?"}`;
  if (b.toString("latin1", 0, 2) === "MZ") {
    const pe = b.readUInt32LE(0x3c);
    if (b.toString("latin1", pe, pe + 4) === "PE\0\0") return `PE ${b.readUInt16LE(pe + 4) === 0x8664 ? "x64" : "?"}`;
  }
  return "unknown";
}

/**
 * `npm run release` for real: five cross-compiled binaries (Bun runtimes from the npm registry, cached
 * in ~/.cache/claudemesh-release), SHA256SUMS and install.sh, then install.sh against a local HTTP
 * server serving that folder, into a temp HOME.
 */
describe("release binaries and install.sh", () => {
  const work = tempDir("cm-release-");
  const out = join(work.path, "release");
  let tamper = false;
  // Serves the release folder; with `tamper` set, the binaries it serves are not the ones it signed.
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const name = new URL(req.url).pathname.slice(1);
      const file = Bun.file(join(out, name));
      if (!name || name.includes("/") || !(await file.exists())) return new Response("not found", { status: 404 });
      if (tamper && name.startsWith("claudemesh-")) return new Response(new Blob([await file.arrayBuffer(), "x"]));
      return new Response(file);
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  let release: { code: number; out: string; err: string };

  beforeAll(async () => {
    const p = Bun.spawn([BUN, "scripts/release.ts", "--out", out, "--base-url", base], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [o, e, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    release = { code, out: o, err: e };
  }, 600_000);
  afterAll(() => {
    server.stop(true);
    work.cleanup();
  });

  test("five binaries of the right format and CPU, each in SHA256SUMS with its hash", () => {
    expect(release.err).toBe("");
    expect(release.code).toBe(0);
    const expected: Record<string, string> = {
      "claudemesh-linux-x64": "ELF x64",
      "claudemesh-linux-arm64": "ELF arm64",
      "claudemesh-darwin-x64": "Mach-O x64",
      "claudemesh-darwin-arm64": "Mach-O arm64",
      "claudemesh-windows-x64.exe": "PE x64",
    };
    expect(readdirSync(out).sort()).toEqual([...Object.keys(expected), "SHA256SUMS", "install.sh"].sort());
    const sums = new Map(
      readFileSync(join(out, "SHA256SUMS"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split("  ").reverse() as [string, string]),
    );
    for (const [name, kind] of Object.entries(expected)) {
      expect(identify(join(out, name))).toBe(kind);
      expect(sums.get(name)).toBe(new Bun.CryptoHasher("sha256").update(readFileSync(join(out, name))).digest("hex"));
    }
  });

  test("install.sh picks this machine's binary, verifies it and installs it to ~/.local/bin", async () => {
    const home = tempDir("cm-install-home-");
    try {
      // the base URL baked in by --base-url is the default download location
      const p = Bun.spawn(["sh", join(out, "install.sh")], {
        env: { HOME: home.path, PATH: process.env.PATH ?? "/usr/bin:/bin" },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [o, e, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(e).toBe("");
      expect(code).toBe(0);
      const bin = join(home.path, ".local/bin/claudemesh");
      expect(o).toContain(`installed claudemesh ${pkg.version} (commit `);
      expect(o).toContain(`add ${join(home.path, ".local/bin")} to your PATH`);
      const version = Bun.spawnSync([bin, "--version"], { stdout: "pipe" });
      expect(version.stdout.toString()).toMatch(new RegExp(`^claudemesh ${pkg.version.replace(/\./g, "\\.")} \\(commit [0-9a-f]{7,}(-dirty)?\\)\\n$`));
    } finally {
      home.cleanup();
    }
  });

  test("a download that does not match SHA256SUMS is refused and nothing is installed", async () => {
    const home = tempDir("cm-install-bad-");
    tamper = true;
    try {
      const p = Bun.spawn(["sh", join(out, "install.sh")], {
        env: { HOME: home.path, PATH: process.env.PATH ?? "/usr/bin:/bin", CLAUDEMESH_RELEASE_URL: base },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [e, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      expect(code).toBe(1);
      expect(e).toMatch(
        /^claudemesh install: checksum mismatch for claudemesh-linux-(x64|arm64) \(expected [0-9a-f]{64}, got [0-9a-f]{64}\); nothing was installed\n$/,
      );
      expect(existsSync(join(home.path, ".local/bin/claudemesh"))).toBe(false);
    } finally {
      tamper = false;
      home.cleanup();
    }
  });
});
