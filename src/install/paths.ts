import { homedir } from "node:os";
import { join } from "node:path";
import { claudemeshHome } from "../util/home.ts";

/** Claude Code's user-scope files; HOME comes from os.homedir() so tests can point it elsewhere. */
export const claudeJsonPath = () => join(homedir(), ".claude.json");
export const claudeSettingsPath = () => join(homedir(), ".claude", "settings.json");
/** What `install` added, so `uninstall` can take out exactly that. */
export const manifestPath = () => join(claudemeshHome(), "install.json");
