import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ROOT } from "../helpers/binary.ts";

const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Every module a command can load at run time (static and dynamic imports; type-only imports are erased). */
function moduleGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    if (!file.endsWith(".ts")) return;
    for (const imp of transpiler.scanImports(readFileSync(file, "utf8"))) {
      if (imp.path.startsWith(".")) visit(resolve(dirname(file), imp.path));
      else packages.add(imp.path);
    }
  };
  visit(join(ROOT, entry));
  return { files, packages };
}

const rel = (files: Set<string>) => [...files].map((f) => f.slice(ROOT.length + 1));

/** What a module loads before its first line runs: static imports only (lazy commands are dynamic). */
function staticGraph(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !file.endsWith(".ts")) return;
    seen.add(file);
    const code = readFileSync(file, "utf8").replace(/^#!.*/, "");
    for (const imp of transpiler.scanImports(code)) {
      if (imp.kind === "dynamic-import") continue;
      if (imp.path.startsWith(".")) visit(resolve(dirname(file), imp.path));
      else packages.add(imp.path);
    }
  };
  visit(join(ROOT, entry));
  return packages;
}

describe("start-up weight", () => {
  test("the CLI entry, which every `claudemesh hook` runs through, loads no zod or MCP SDK before the command", () => {
    const packages = [...staticGraph("src/cli/main.ts")];
    expect(packages.filter((p) => p === "zod" || p.startsWith("@modelcontextprotocol/"))).toEqual([]);
  });

  test("`claudemesh mcp` never loads the broker, SQL, prompts or S3", () => {
    const { files, packages } = moduleGraph("src/cli/commands/mcp.ts");
    expect(rel(files)).toContain("src/mcp/server.ts");
    expect(rel(files).filter((f) => /^src\/(broker|store|blob|launch|dashboard)\//.test(f))).toEqual([]);
    expect([...packages].filter((p) => p === "bun:sql" || p === "bun" || p.startsWith("@clack/") || p.startsWith("@aws-sdk/"))).toEqual([]);
  });

  test("`claudemesh mcp` loads no broker side of any feature and not the composition root", () => {
    const files = rel(moduleGraph("src/cli/commands/mcp.ts").files);
    // the client halves it needs (messenger, tools, frames) are there; the broker halves are not
    expect(files).toContain("src/messaging/messenger.ts");
    expect(files).toContain("src/client/tool.ts");
    expect(
      files.filter((f) => !f.startsWith("src/client/") && /^src\/server\/|\/(feature|repo|schema|hello|http|signed|tokens|bootstrap)\.ts$/.test(f)),
    ).toEqual([]);
  });

  test("the S3 SDK is loaded by nothing but the broker's S3 blob store, and that only on demand", () => {
    const { files, packages } = moduleGraph("src/cli/commands/broker.ts");
    // the broker does reach it (through the dynamic import), so the check below covers the real path
    expect([...packages].filter((p) => p.startsWith("@aws-sdk/"))).not.toEqual([]);
    for (const file of files) {
      if (!file.endsWith(".ts")) continue;
      const imports = transpiler.scanImports(readFileSync(file, "utf8"));
      const where = rel(new Set([file]))[0];
      if (where !== "src/blob/s3.ts") expect([where, imports.filter((i) => i.path.startsWith("@aws-sdk/")).map((i) => i.path)]).toEqual([where, []]);
      for (const i of imports.filter((i) => i.path.endsWith("/s3.ts") || i.path === "./s3.ts")) expect([where, i.kind]).toEqual([where, "dynamic-import"]);
    }
  });

  test("`claudemesh hook` loads almost nothing: no zod, no MCP SDK", () => {
    const { files, packages } = moduleGraph("src/cli/commands/hook.ts");
    // `hook context` also loads the guide text (dynamically, only for that event): plain text, no dependencies.
    // Plain `claude` (no session dir): the socket named after Claude Code's pid, found from /proc (or one
    // `ps` where there is no /proc), under the claudemesh home.
    expect(rel(files).sort()).toEqual([
      "CLAUDEMESH.md",
      "src/cli/command-meta.ts",
      "src/cli/commands/hook.ts",
      "src/mcp/guide.ts",
      "src/mcp/hook-client.ts",
      "src/mcp/hook-protocol.ts",
      "src/session/claude-socket.ts",
      "src/session/paths.ts",
      "src/util/home.ts",
      "src/util/pid.ts",
      "src/util/self.ts",
    ]);
    expect([...packages].sort()).toEqual(["citty", "node:child_process", "node:fs", "node:net", "node:os", "node:path"]);
  });
});
