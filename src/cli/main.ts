#!/usr/bin/env bun
import { type CommandDef, runCommand, showUsage } from "citty";
import { AppError } from "../util/errors.ts";
import { VERSION } from "../version.ts";

// citty's CommandDef is generic over each command's args; the root only needs "some command".
type AnyCommand = CommandDef<any>;
// citty's runCommand drops a subcommand's return value, so each command's numeric result is kept here.
let commandResult: unknown;
const keepResult = (cmd: CommandDef): CommandDef => {
  const run = cmd.run;
  return run ? { ...cmd, run: async (ctx) => (commandResult = await run(ctx)) } : cmd;
};
const lazy = (load: () => Promise<{ default: AnyCommand }>) => () => load().then((m) => keepResult(m.default as CommandDef));

/** Subcommands load lazily: `mcp` and `hook` must start fast and never load the broker, Postgres or prompts. */
export const main: CommandDef = {
  meta: { name: "claudemesh", version: VERSION, description: "A peer mesh for Claude Code sessions" },
  subCommands: {
    broker: lazy(() => import("./commands/broker.ts")),
    mesh: lazy(() => import("./commands/mesh.ts")),
    invite: lazy(() => import("./commands/invite.ts")),
    members: lazy(() => import("./commands/members.ts")),
    join: lazy(() => import("./commands/join.ts")),
    leave: lazy(() => import("./commands/leave.ts")),
    list: lazy(() => import("./commands/list.ts")),
    status: lazy(() => import("./commands/status.ts")),
    mcp: lazy(() => import("./commands/mcp.ts")),
    hook: lazy(() => import("./commands/hook.ts")),
    launch: lazy(() => import("./commands/launch.ts")),
    install: lazy(() => import("./commands/install.ts")),
    uninstall: lazy(() => import("./commands/uninstall.ts")),
    doctor: lazy(() => import("./commands/doctor.ts")),
  },
};

/** Errors a user can act on are printed as one line; anything else is a bug and shows its stack. */
export function formatError(err: unknown): string {
  if (err instanceof AppError) return `claudemesh: ${err.message} [${err.code}]`;
  if (err instanceof Error && (err as { code?: string }).code?.startsWith("E_")) return `claudemesh: ${err.message}`;
  return `claudemesh: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    if (argv[0] !== "launch") {
      await showUsage(main);
      return 0;
    }
  }
  try {
    await runCommand(main, { rawArgs: argv });
    return typeof commandResult === "number" ? commandResult : 0;
  } catch (err) {
    process.stderr.write(formatError(err) + "\n");
    return 1;
  }
}

if (import.meta.main) {
  const code = await run(process.argv.slice(2));
  // Long-running commands (broker, mcp) resolve only when they are done.
  process.exit(code);
}
