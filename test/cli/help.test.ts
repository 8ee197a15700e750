import { beforeAll, describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { main } from "../../src/cli/main.ts";
import type { AnyCommand } from "../../src/cli/usage.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";

/** Help and command-line mistakes, through the compiled binary, as a new user meets them. */
let bin: string;
const home = tempDir("cm-help-");
// citty itself turns colours off under CI/TEST; the binary's own decision (TTY, NO_COLOR) is what is tested.
const env = (extra: Record<string, string> = {}) => {
  const { CI: _ci, TEST: _t, NO_COLOR: _n, ...rest } = process.env;
  return { ...rest, CLAUDEMESH_HOME: home.path, ...extra };
};

async function cli(args: string[], extra: Record<string, string> = {}) {
  const p = Bun.spawn([bin, ...args], { env: env(extra), stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Runs the binary on a pseudo-terminal (util-linux `script`): stdin and stdout are a TTY, as for a human. */
async function onTty(args: string[], extra: Record<string, string> = {}) {
  const p = Bun.spawn(["script", "-qec", [bin, ...args].map(shellQuote).join(" "), "/dev/null"], {
    env: env(extra),
    stdout: "pipe",
    stderr: "pipe",
    stdin: "pipe",
  });
  p.stdin.end();
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { out: out.replace(/\r\n/g, "\n"), code };
}

type Leaf = { path: string[]; flags: string[]; positionals: string[] };
/** Every runnable command of the real command tree, with the flags it declares. */
async function leaves(cmd: AnyCommand, path: string[]): Promise<Leaf[]> {
  const subs = (typeof cmd.subCommands === "function" ? await cmd.subCommands() : cmd.subCommands) as Record<string, unknown> | undefined;
  const out: Leaf[] = [];
  if (subs) {
    for (const [name, sub] of Object.entries(subs)) {
      const c = (typeof sub === "function" ? await sub() : sub) as AnyCommand;
      out.push(...(await leaves(c, [...path, name])));
    }
    return out;
  }
  const args = Object.entries((cmd.args ?? {}) as ArgsDef);
  return [
    {
      path,
      flags: args.filter(([, d]) => d.type !== "positional").map(([n]) => n),
      positionals: args.filter(([, d]) => d.type === "positional").map(([n]) => n),
    },
  ];
}

let all: Leaf[] = [];
beforeAll(async () => {
  bin = await ensureBinary();
  all = await leaves(main, []);
});

describe("help", () => {
  test("every command and subcommand has its own usage: its flags, its arguments, one example", async () => {
    expect(all.map((l) => l.path.join(" "))).toEqual(
      expect.arrayContaining(["members list", "members revoke", "invite create", "invite list", "invite revoke", "mesh create", "launch"]),
    );
    // one leaf at a time would take ~40 spawns in a row; they are independent
    await Promise.all(
      all.map(async (leaf) => {
        const r = await cli([...leaf.path, "--help"]);
        expect(r.code).toBe(0);
        expect(r.out).toContain(`USAGE claudemesh ${leaf.path.join(" ")}`);
        for (const f of leaf.flags) expect(r.out).toMatch(new RegExp(`--${f}\\b`));
        for (const p of leaf.positionals) expect(r.out).toContain(p.toUpperCase());
        expect(r.out).toMatch(/EXAMPLE\n\n {2}claudemesh \S/);
        // plain text off a terminal, and no padding at the ends of lines
        expect(r.out).not.toContain("\u001B[");
        expect(r.out.split("\n").filter((l) => l !== l.trimEnd())).toEqual([]);
        if (leaf.path[0] !== "help") expect((await cli(["help", ...leaf.path])).out).toBe(r.out);
      }),
    );
  }, 60_000);

  test("defaults are shown; the overview lists every command and `help`", async () => {
    expect((await cli(["invite", "--help"])).out).toContain("claudemesh invite [OPTIONS] <SLUG>");
    expect((await cli(["invite", "create", "--help"])).out).toMatch(/--expires=<expires>\s+Lifetime: .+\(Default: 7d\)/);
    const overview = await cli([]);
    expect(overview.code).toBe(0);
    for (const name of ["broker", "mesh", "invite", "members", "join", "launch", "doctor", "help"])
      expect(overview.out).toMatch(new RegExp(`^ +${name} {2,}\\S`, "m"));
    expect((await cli(["help"])).out).toBe(overview.out);
    expect((await cli(["--help"])).out).toBe(overview.out);
  }, 30_000);

  test("colours on a terminal only, and never with NO_COLOR", async () => {
    const tty = await onTty(["invite", "--help"]);
    expect(tty.code).toBe(0);
    expect(tty.out).toContain("\u001B[");
    const noColor = await onTty(["invite", "--help"], { NO_COLOR: "yes" });
    expect(noColor.out).toContain("USAGE claudemesh invite");
    expect(noColor.out).not.toContain("\u001B[");
  }, 30_000);
});

describe("command-line mistakes: one line, the usage line, exit 2", () => {
  const usageError = (r: { out: string; err: string; code: number }, first: RegExp | string, usage: string) => {
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    const lines = r.err.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    if (typeof first === "string") expect(lines[0]).toBe(first);
    else expect(lines[0]).toMatch(first);
    expect(lines[1]).toBe(`usage: ${usage}`);
  };

  test("a missing argument", async () => {
    usageError(await cli(["join"]), "claudemesh join: missing <URL> (Invite URL, including the part after #)", "claudemesh join [OPTIONS] <URL>");
    usageError(await cli(["invite"]), "claudemesh invite create: missing <SLUG> (Mesh slug)", "claudemesh invite create [OPTIONS] <SLUG>");
    usageError(await cli(["members"]), "claudemesh members list: missing <SLUG> (Mesh slug)", "claudemesh members list [OPTIONS] <SLUG>");
    usageError(
      await cli(["members", "revoke", "dev-team"]),
      "claudemesh members revoke: missing <MEMBER> (Member id or display name)",
      "claudemesh members revoke [OPTIONS] <SLUG> <MEMBER>",
    );
    usageError(
      await cli(["invite", "revoke", "dev-team"]),
      /^claudemesh invite revoke: missing <INVITE>/,
      "claudemesh invite revoke [OPTIONS] <SLUG> <INVITE>",
    );
    usageError(await cli(["leave"]), "claudemesh leave: missing <SLUG> (Mesh slug)", "claudemesh leave [OPTIONS] <SLUG>");
    // an empty word, as `claudemesh share "$FILE"` passes with FILE unset, is as missing as none
    usageError(await cli(["share", ""]), "claudemesh share: missing <PATH> (The file to share)", "claudemesh share [OPTIONS] <PATH>");
    usageError(await cli(["join", ""]), "claudemesh join: missing <URL> (Invite URL, including the part after #)", "claudemesh join [OPTIONS] <URL>");
    usageError(
      await cli(["mesh", "create"]),
      "claudemesh mesh create: missing <SLUG> (Short name, e.g. dev-team)",
      "claudemesh mesh create [OPTIONS] <SLUG> --broker=<broker>",
    );
    usageError(await cli(["mesh", "create", "t1"]), /^claudemesh mesh create: missing --broker/, "claudemesh mesh create [OPTIONS] <SLUG> --broker=<broker>");
  }, 30_000);

  test("`mesh` alone names its subcommands; an unknown command suggests the close one", async () => {
    usageError(await cli(["mesh"]), "claudemesh mesh: missing command, one of: create", "claudemesh mesh create");
    const r = await cli(["instal"]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe('claudemesh: unknown command "instal"; did you mean `claudemesh install`?');
    expect((await cli(["help", "nope"])).code).toBe(2);
    const typo = await cli(["members", "revok", "dev-team", "Alice"]);
    expect(typo.code).toBe(2);
    expect(typo.err.split("\n")[0]).toEndWith("did you mean `claudemesh members revoke`?");
  }, 30_000);

  test("unknown or misspelt flags are refused before anything happens", async () => {
    usageError(
      await cli(["invite", "t1", "--use", "3", "--expire", "1h"]),
      "claudemesh invite create: unknown flag --use; did you mean --uses?",
      "claudemesh invite create [OPTIONS] <SLUG>",
    );
    usageError(
      await cli(["invite", "t1", "--uses", "3", "--expire", "1h"]),
      "claudemesh invite create: unknown flag --expire; did you mean --expires?",
      "claudemesh invite create [OPTIONS] <SLUG>",
    );
    usageError(await cli(["list", "--jsn"]), "claudemesh list: unknown flag --jsn; did you mean --json?", "claudemesh list [OPTIONS]");
    usageError(await cli(["status", "--frobnicate"]), "claudemesh status: unknown flag --frobnicate", "claudemesh status [OPTIONS]");
    usageError(await cli(["launch", "-q"]), "claudemesh launch: unknown flag -q", "claudemesh launch [OPTIONS]");
    usageError(await cli(["invite", "t1", "--uses"]), "claudemesh invite create: --uses needs a value", "claudemesh invite create [OPTIONS] <SLUG>");
    usageError(await cli(["list", "extra"]), 'claudemesh list: unexpected argument "extra"', "claudemesh list [OPTIONS]");
    // citty reads "-1" as short flags, so it is one here too (never a positional citty would then miss)
    usageError(await cli(["share", "-5"]), "claudemesh share: unknown flag -5", "claudemesh share [OPTIONS] <PATH>");
    usageError(await cli(["members", "-1"]), "claudemesh members list: unknown flag -1", "claudemesh members list [OPTIONS] <SLUG>");
    // known flags in all their spellings pass the check (and then fail for the right reason: no such mesh)
    for (const args of [
      ["invite", "t1", "--uses=3", "--expires", "1h", "--no-json"],
      ["members", "t1", "--json"],
    ]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.err).toContain('you have not joined a mesh named "t1"');
    }
  }, 30_000);

  test("`hook bogus` fails for a human at a terminal, and never disturbs a Claude Code session", async () => {
    const human = await onTty(["hook", "bogus"]);
    expect(human.code).toBe(2);
    expect(human.out).toContain('claudemesh hook: unknown event "bogus" (expected working, idle, context)');
    const p = Bun.spawn([bin, "hook", "bogus"], { env: env({ CLAUDEMESH_SESSION_DIR: "" }), stdin: new Blob(["{}"]), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ code, out, err }).toEqual({ code: 0, out: "", err: "" });
  }, 30_000);

  test("errors speak words, the code stays in --json", async () => {
    const r = await cli(["members", "nope", "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ error: { code: "not_found", message: expect.stringContaining('"nope"') } });
    expect(r.err.trim()).toMatch(/^claudemesh: you have not joined a mesh named "nope"/);
    expect(r.err).not.toMatch(/\[[a-z_]+\]/);
  }, 30_000);
});
