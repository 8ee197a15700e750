#!/usr/bin/env bun
import { type CommandDef, runCommand } from "citty";
import { WireError } from "../protocol/wire-error.ts";
import { LocalError } from "../util/errors.ts";
import { COMMIT, VERSION } from "../version.ts";
import { checkArgs, type Resolved, resolveCommand } from "./dispatch.ts";
import { type AnyCommand, colours, plain, UsageError, usageLine, usageText, withExamples } from "./usage.ts";

const lazy = (load: () => Promise<{ default: AnyCommand }>) => () => load().then((m) => m.default);

/** Subcommands load lazily: `mcp` and `hook` must start fast and never load the broker, Postgres or prompts. */
export const main: CommandDef = {
  meta: { name: "claudemesh", version: VERSION, description: "A peer mesh for Claude Code sessions" },
  subCommands: {
    broker: lazy(() => import("./commands/broker.ts")),
    mesh: lazy(() => import("./commands/mesh.ts")),
    invite: lazy(() => import("./commands/invite.ts")),
    members: lazy(() => import("./commands/members.ts")),
    usage: lazy(() => import("./commands/usage.ts")),
    nodes: lazy(() => import("./commands/nodes.ts")),
    join: lazy(() => import("./commands/join.ts")),
    leave: lazy(() => import("./commands/leave.ts")),
    list: lazy(() => import("./commands/list.ts")),
    status: lazy(() => import("./commands/status.ts")),
    share: lazy(() => import("./commands/share.ts")),
    files: lazy(() => import("./commands/files.ts")),
    get: lazy(() => import("./commands/get.ts")),
    mcp: lazy(() => import("./commands/mcp.ts")),
    hook: lazy(() => import("./commands/hook.ts")),
    launch: lazy(() => import("./commands/launch.ts")),
    install: lazy(() => import("./commands/install.ts")),
    uninstall: lazy(() => import("./commands/uninstall.ts")),
    doctor: lazy(() => import("./commands/doctor.ts")),
    dashboard: lazy(() => import("./commands/dashboard.ts")),
    // `help` is answered by run() below; this entry is what lists it and gives it a usage.
    help: withExamples(
      {
        meta: { name: "help", description: "Show the usage of a command: claudemesh help [command [subcommand]]" },
        args: { command: { type: "positional", required: false, description: "Command name, e.g. invite or `members revoke`" } },
      },
      "claudemesh help members revoke",
    ),
  },
};

/** One human line; the machine code stays in `--json` output (see errorJson). */
export function formatError(err: unknown): string {
  if (err instanceof WireError || err instanceof LocalError) return `claudemesh: ${err.message}`;
  if (err instanceof Error && (err as { code?: string }).code?.startsWith("E_")) return `claudemesh: ${err.message}`;
  return `claudemesh: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

/** What `--json` commands print on stdout when they fail, so a script gets one JSON document either way. */
export function errorJson(err: unknown): { error: { code: string; message: string } } {
  if (err instanceof WireError) return { error: { code: err.code, message: err.message } };
  if (err instanceof LocalError) return { error: { code: err.kind, message: err.message } };
  return { error: { code: "internal", message: err instanceof Error ? err.message : String(err) } };
}

// Claude Code pipes the hook payload into stdin; a hook on a terminal is a human trying it out.
const hookRunByClaude = (r: Resolved | undefined) => r?.path[1] === "hook" && !process.stdin.isTTY;

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    process.stdout.write(`claudemesh ${VERSION} (commit ${COMMIT})\n`);
    return 0;
  }
  // `help x y` is `x y --help`; bare `claudemesh` shows the overview.
  const asksHelpOfHelp = argv[0] === "help" && argv.slice(1).some((a) => a === "--help" || a === "-h");
  const args = argv[0] === "help" && !asksHelpOfHelp ? [...argv.slice(1), "--help"] : argv.length === 0 ? ["--help"] : argv;
  let resolved: Resolved | undefined;
  try {
    resolved = await resolveCommand(main, args);
    if (resolved.help) {
      process.stdout.write(`${await usageText(resolved.cmd, resolved.path, colours(process.stdout))}\n`);
      return 0;
    }
    await checkArgs(resolved);
    const { result } = await runCommand(resolved.cmd, { rawArgs: resolved.rest });
    return typeof result === "number" ? result : 0;
  } catch (err) {
    if (err instanceof UsageError || (err instanceof Error && err.name === "CLIError")) {
      // A hook must never disturb the session that runs it: under Claude Code its mistakes are silent.
      if (hookRunByClaude(resolved)) return 0;
      const line = err instanceof UsageError ? err.message : `${resolved?.path.join(" ") ?? "claudemesh"}: ${plain(err.message)}`;
      const usage = err instanceof UsageError && err.usageLine ? err.usageLine : resolved ? await usageLine(resolved.cmd, resolved.path) : "";
      process.stderr.write(`${line}\n${usage}\n`);
      return 2;
    }
    if (resolved?.rest.includes("--json")) process.stdout.write(`${JSON.stringify(errorJson(err), null, 2)}\n`);
    process.stderr.write(`${formatError(err)}\n`);
    return hookRunByClaude(resolved) ? 0 : 1;
  }
}

if (import.meta.main) {
  const code = await run(process.argv.slice(2));
  // Long-running commands (broker, mcp) resolve only when they are done.
  process.exit(code);
}
