import { homedir } from "node:os";
import { join } from "node:path";
import { claudemeshHome } from "../client/config.ts";

/** Claude Code's user-scope files; HOME comes from os.homedir() so tests can point it elsewhere. */
export const claudeJsonPath = () => join(homedir(), ".claude.json");
export const claudeSettingsPath = () => join(homedir(), ".claude", "settings.json");
export const guidePath = () => join(claudemeshHome(), "CLAUDEMESH.md");
/** What `install` added, so `uninstall` can take out exactly that. */
export const manifestPath = () => join(claudemeshHome(), "install.json");

/** `~/…` for messages. */
export function tildify(path: string): string {
  const home = homedir();
  return path.startsWith(home + "/") ? `~${path.slice(home.length)}` : path;
}
