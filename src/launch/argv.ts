/** The argv `launch` hands to `claude`: pure, so the flag ordering rules are unit-tested. */

export const CHANNELS_FLAG = "--dangerously-load-development-channels";
export const SKIP_PERMISSIONS_FLAG = "--dangerously-skip-permissions";
/** `server:<key>` where <key> is the server's name in the --mcp-config file. */
export const CHANNEL_SERVER = "server:claudemesh";

export interface ClaudeArgvInput {
  mcpConfigPath: string;
  settingsPath: string;
  /** autonomous mode confirmed (or -y): add --dangerously-skip-permissions */
  skipPermissions: boolean;
  /** everything after `--` on the launch command line */
  passthrough: readonly string[];
}

export interface StrippedPassthrough {
  /** the pass-through args without any --dangerously-load-development-channels / --dangerously-skip-permissions */
  rest: string[];
  /** channel values the user gave (merged into ours, so nothing they asked for is lost) */
  channels: string[];
  skipPermissions: boolean;
  /** values of the user's own `--settings` (file paths or JSON): merged into ours, since claude keeps only the last */
  settings: string[];
}

/**
 * Removes the user's copies of the two flags `launch` always sets. Claude Code's channels flag is
 * variadic (commander): `--flag a b` swallows every following arg up to the next one starting with `-`,
 * while `--flag=a` takes exactly one value. A user's `--` ends option parsing for claude, so nothing
 * after it is touched.
 */
export function stripDangerousFlags(passthrough: readonly string[]): StrippedPassthrough {
  const rest: string[] = [];
  const channels: string[] = [];
  const settings: string[] = [];
  let skipPermissions = false;
  for (let i = 0; i < passthrough.length; i++) {
    const arg = passthrough[i] as string;
    if (arg === "--") {
      rest.push(...passthrough.slice(i));
      break;
    }
    if (arg === SKIP_PERMISSIONS_FLAG || arg.startsWith(`${SKIP_PERMISSIONS_FLAG}=`)) {
      skipPermissions = true;
      continue;
    }
    if (arg.startsWith(`${CHANNELS_FLAG}=`)) {
      channels.push(arg.slice(CHANNELS_FLAG.length + 1));
      continue;
    }
    if (arg.startsWith("--settings=")) {
      settings.push(arg.slice("--settings=".length));
      continue;
    }
    if (arg === "--settings" && i + 1 < passthrough.length) {
      settings.push(passthrough[++i] as string);
      continue;
    }
    if (arg === CHANNELS_FLAG) {
      while (i + 1 < passthrough.length && !(passthrough[i + 1] as string).startsWith("-")) channels.push(passthrough[++i] as string);
      continue;
    }
    rest.push(arg);
  }
  return { rest, channels, skipPermissions, settings };
}

/**
 * `--mcp-config` and the channels flag are both variadic, so each is followed directly by another
 * `--flag` of ours; `--settings` takes exactly one value, so a positional in the pass-through args
 * (a prompt) can never be mistaken for a config file or a channel.
 */
export function buildClaudeArgv(input: ClaudeArgvInput): string[] {
  const { rest, channels } = stripDangerousFlags(input.passthrough);
  const allChannels = [...new Set([CHANNEL_SERVER, ...channels])];
  return [
    "--mcp-config",
    input.mcpConfigPath,
    CHANNELS_FLAG,
    ...allChannels,
    "--settings",
    input.settingsPath,
    ...(input.skipPermissions ? [SKIP_PERMISSIONS_FLAG] : []),
    ...rest,
  ];
}

/** Splits launch's raw args at the first `--`: what comes after belongs to claude. */
export function splitAtDoubleDash(rawArgs: readonly string[]): { own: string[]; passthrough: string[] } {
  const i = rawArgs.indexOf("--");
  return i === -1 ? { own: [...rawArgs], passthrough: [] } : { own: rawArgs.slice(0, i), passthrough: rawArgs.slice(i + 1) };
}
