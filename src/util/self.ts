import { basename } from "node:path";

/**
 * How to run this very claudemesh again (for the MCP config, hooks, and tests): the compiled binary runs
 * itself; from source, Bun runs the entry script.
 */
export function selfCommand(): string[] {
  const exe = process.execPath;
  const compiled = !/^bun(-debug)?(\.exe)?$/.test(basename(exe));
  return compiled ? [exe] : [exe, Bun.main];
}
