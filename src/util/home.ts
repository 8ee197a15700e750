import { homedir } from "node:os";
import { join } from "node:path";

/**
 * `$CLAUDEMESH_HOME`, else `~/.claudemesh`. Here rather than in client/config.ts (which re-exports it) so
 * that `claudemesh hook` can find the home without loading zod.
 */
export function claudemeshHome(): string {
  return process.env.CLAUDEMESH_HOME || join(homedir(), ".claudemesh");
}

/** CLAUDEMESH.md where `install` copies it and where the MCP instructions point. */
export const guidePath = () => join(claudemeshHome(), "CLAUDEMESH.md");

/** `~/…` for messages. */
export function tildify(path: string): string {
  const home = homedir();
  return path.startsWith(home + "/") ? `~${path.slice(home.length)}` : path;
}
