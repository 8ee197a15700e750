/**
 * What every command module needs from the CLI core, free of dependencies: `hook` imports it and must
 * stay light (test/mcp/imports.test.ts).
 */

/** A mistake on the command line: one line plus the command's usage line on stderr, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usageLine = "",
  ) {
    super(message);
    this.name = "UsageError";
  }
}

// citty's meta has no example; commands register theirs here so their usage ends with one.
const examples = new WeakMap<object, string[]>();

/** `defineCommand`'s result, recorded with the example lines its usage ends with. */
export function withExamples<T extends object>(cmd: T, ...lines: string[]): T {
  examples.set(cmd, lines);
  return cmd;
}

export const examplesOf = (cmd: object): string[] => examples.get(cmd) ?? [];
