import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ArgsDef } from "citty";
import fc from "fast-check";
import { main } from "../../src/cli/main.ts";
import type { AnyCommand } from "../../src/cli/usage.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, createMesh, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

/**
 * Whatever a user types: every command of the real tree, with any of its flags and arguments, given any
 * value. The answer is an exit and, on failure, one line in words — never a stack or a runtime's message.
 */
type Leaf = { path: string[]; flags: { name: string; boolean: boolean }[]; positionals: number };

async function leaves(cmd: AnyCommand, path: string[]): Promise<Leaf[]> {
  const subs = (typeof cmd.subCommands === "function" ? await cmd.subCommands() : cmd.subCommands) as Record<string, unknown> | undefined;
  if (subs) {
    const out: Leaf[] = [];
    for (const [name, sub] of Object.entries(subs)) out.push(...(await leaves((typeof sub === "function" ? await sub() : sub) as AnyCommand, [...path, name])));
    return out;
  }
  const args = Object.entries((cmd.args ?? {}) as ArgsDef);
  return [
    {
      path,
      flags: args.filter(([, d]) => d.type !== "positional").map(([name, d]) => ({ name, boolean: d.type === "boolean" })),
      positionals: args.filter(([, d]) => d.type === "positional").length,
    },
  ];
}

// These serve until stopped (the broker, `mcp` on its stdin) or hand the terminal to Claude Code.
const LONG_RUNNING = new Set(["broker", "mcp", "launch"]);
// A browser is never started from a test.
const NEVER = new Set(["open"]);

describe("claudemesh CLI: any argv", () => {
  let bin: string;
  let broker: TestBroker;
  let all: Leaf[] = [];
  const work = tempDir("cm-argv-fuzz-");
  const config = join(work.path, "config.json");

  suiteFixture(async (stack) => {
    stack.use(work);
    bin = await ensureBinary();
    broker = stack.use(await startTestBroker("sqlite"));
    const mesh = await createMesh(broker, "fuzz");
    const member = await addMember(broker, mesh, "alice");
    writeSecretFile(config, JSON.stringify({ version: 1, meshes: [member] }, null, 2));
    writeFileSync(join(work.path, "real.txt"), "a real file\n");
    all = (await leaves(main, [])).filter((l) => !LONG_RUNNING.has(l.path[0] as string));
  });

  test("every command answers in words", async () => {
    const inWork = (s: string) => join(work.path, `p-${s.replaceAll(".", "_").replaceAll("/", "_")}`);
    const value = fc.oneof(
      fc.constantFrom("fuzz", "default", "alice", "0", "-1", "99999999999", "1h", "7d", "soon", "", " ", "*", "@all", "f_x", "https://", "http://127.0.0.1:1"),
      fc.constant(broker.url),
      fc.constant(broker.adminToken),
      fc.constant(join(work.path, "real.txt")),
      fc.string({ maxLength: 20 }).map(inWork),
      fc.string({ maxLength: 20 }).filter((s) => !s.startsWith("/") && !s.includes("..")),
      fc.string({ unit: "grapheme", maxLength: 10 }).filter((s) => !s.startsWith("/") && !s.includes("..")),
    );
    const argv = fc.constantFrom(...all).chain((leaf) =>
      fc
        .tuple(
          fc.array(value, { maxLength: leaf.positionals + 1 }),
          fc.uniqueArray(fc.constantFrom(...(leaf.flags.length ? leaf.flags : [{ name: "json", boolean: true }])), {
            maxLength: 4,
            selector: (f) => f.name,
          }),
          fc.array(value, { minLength: 4, maxLength: 4 }),
          fc.boolean(),
        )
        .map(([positionals, flags, values, trailing]) => [
          ...leaf.path,
          ...positionals,
          ...flags.filter((f) => !NEVER.has(f.name)).flatMap((f, i) => (f.boolean ? [`--${f.name}`] : [`--${f.name}`, values[i] as string])),
          ...(trailing ? ["--"] : []),
        ]),
    );
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const home = tempDir("cm-argv-home-");
        try {
          mkdirSync(join(home.path, "cm"), { mode: 0o700 });
          copyFileSync(config, join(home.path, "cm", "config.json"));
          const p = Bun.spawn([bin, ...args], {
            cwd: work.path,
            env: { PATH: process.env.PATH ?? "", HOME: home.path, CLAUDEMESH_HOME: join(home.path, "cm") },
            stdout: "pipe",
            stderr: "pipe",
            stdin: "ignore",
          });
          const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
          const shown = { args, code, err: err.slice(0, 400) };
          expect(shown.code === 0 || shown.code === 1 || shown.code === 2 ? "exit" : shown).toBe("exit");
          expect(`${out}\n${err}`).not.toMatch(
            /TypeError|ReferenceError|RangeError|SyntaxError|is not a function|undefined is not|Cannot read properties|\bat \S+:\d+:\d+|ERR_[A-Z_]+|URL is invalid|: E[A-Z]+$|\[internal\]/m,
          );
          // a failure is its first line, naming the command; a usage mistake adds the usage line
          // (doctor's failing checks are its report, on stdout)
          if (code !== 0 && args[0] !== "doctor") {
            const lines = err.trim().split("\n");
            expect({ args, first: lines[0] }).toEqual({ args, first: expect.stringMatching(/^claudemesh( [a-z-]+)*: \S/) });
            expect({ args, lines }).toEqual({ args, lines: expect.objectContaining({ length: code === 2 ? 2 : 1 }) });
          }
        } finally {
          home.cleanup();
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
