import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { HOOK_EVENTS, type HookEvent, hookCommand, mcpServerEntry } from "../launch/claude-config.ts";
import { CLAUDEMESH_GUIDE } from "../mcp/guide.ts";
import { SESSION_ENV } from "../session/paths.ts";
import { ensurePrivateDir, writeSecretFile } from "../util/fs.ts";
import { selfCommand } from "../util/self.ts";
import { addHooks, addMcpServer, type EditResult, removeHooks, removeMcpServer } from "./edit.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { backupFile, type JsonDoc, readJsonDoc, render } from "./json-file.ts";
import { claudemeshHome, guidePath } from "../util/home.ts";
import { claudeJsonPath, claudeSettingsPath, manifestPath } from "./paths.ts";

const FileRecord = z.object({ createdFile: z.boolean(), createdDir: z.boolean().default(false), created: z.array(z.string()) });
const Manifest = z.object({
  version: z.literal(1),
  claudeJson: FileRecord,
  settings: FileRecord,
  /** every hook command install ever wrote, so an upgrade or uninstall finds them after the binary moved */
  hookCommands: z.array(z.string()),
  guide: z.boolean(),
});
type Manifest = z.infer<typeof Manifest>;

const emptyManifest = (): Manifest => ({
  version: 1,
  claudeJson: { createdFile: false, createdDir: false, created: [] },
  settings: { createdFile: false, createdDir: false, created: [] },
  hookCommands: [],
  guide: false,
});

function readManifest(): Manifest | null {
  try {
    return Manifest.parse(JSON.parse(readFileSync(manifestPath(), "utf8")));
  } catch {
    return null;
  }
}

export interface Change {
  what: string;
  path: string;
  action: "added" | "updated" | "unchanged" | "removed" | "absent";
  backup?: string;
}

/** A compiled claudemesh anywhere on disk: `…/claudemesh hook working`. */
const COMPILED_HOOK = /(^|[/'"\s])claudemesh'? hook (working|idle|context)$/;

function wantedHooks(self: readonly string[]): Record<HookEvent, string> {
  const out = {} as Record<HookEvent, string>;
  for (const [event, state] of Object.entries(HOOK_EVENTS) as [HookEvent, (typeof HOOK_EVENTS)[HookEvent]][]) out[event] = hookCommand(self, state);
  return out;
}

const ourHooks = (known: Iterable<string>) => {
  const set = new Set(known);
  return (command: string) => set.has(command) || COMPILED_HOOK.test(command);
};

/** Writes an edit back: backup first (if the file existed), then an atomic replace in the file's own style. */
function commit(doc: JsonDoc, edit: EditResult): string | undefined {
  const backup = doc.exists ? backupFile(doc.path) : undefined;
  writeFileAtomic(doc.path, render(doc, edit.data), doc.mode, { followSymlink: true });
  return backup;
}

/** Registers the MCP server and hooks at user scope and copies CLAUDEMESH.md. Running it again changes nothing. */
export function install(self: readonly string[] = selfCommand()): Change[] {
  const manifest = readManifest() ?? emptyManifest();
  const wanted = wantedHooks(self);
  const isOurs = ourHooks([...manifest.hookCommands, ...Object.values(wanted)]);

  // Both files are read and edited before either is written, so a broken file stops us before any change.
  const cj = readJsonDoc(claudeJsonPath());
  // An empty session dir: a `claude` started from inside a launched session inherits that session's
  // CLAUDEMESH_SESSION_DIR, and its user-scope server must not take the parent's identity and socket.
  const mcp = addMcpServer(cj.data, { type: "stdio", ...mcpServerEntry(self, { [SESSION_ENV]: "" }) }, cj.path);
  const settingsDirExisted = existsSync(dirname(claudeSettingsPath()));
  const st = readJsonDoc(claudeSettingsPath());
  const hooks = addHooks(st.data, wanted, isOurs, st.path);

  const changes: Change[] = [];
  const record = (what: string, doc: JsonDoc, edit: EditResult, rec: Manifest["claudeJson"], dirExisted = true) => {
    if (!edit.changed) return changes.push({ what, path: doc.path, action: "unchanged" });
    const backup = commit(doc, edit);
    if (!doc.exists) rec.createdFile = true;
    if (!dirExisted) rec.createdDir = true;
    rec.created = [...new Set([...rec.created, ...edit.created])];
    changes.push({ what, path: doc.path, action: doc.exists ? "updated" : "added", backup });
  };
  record("MCP server", cj, mcp, manifest.claudeJson);
  record("hooks", st, hooks, manifest.settings, settingsDirExisted);
  manifest.hookCommands = [...new Set([...manifest.hookCommands, ...Object.values(wanted)])];

  const guide = guidePath();
  const oldGuide = existsSync(guide) ? readFileSync(guide, "utf8") : null;
  if (oldGuide === CLAUDEMESH_GUIDE) {
    changes.push({ what: "guide", path: guide, action: "unchanged" });
  } else {
    ensurePrivateDir(claudemeshHome());
    const backup = oldGuide !== null ? backupFile(guide) : undefined;
    writeFileAtomic(guide, CLAUDEMESH_GUIDE, 0o644, { followSymlink: true });
    changes.push({ what: "guide", path: guide, action: oldGuide === null ? "added" : "updated", backup });
  }
  manifest.guide = true;

  const text = JSON.stringify(manifest, null, 2) + "\n";
  if (!existsSync(manifestPath()) || readFileSync(manifestPath(), "utf8") !== text) writeSecretFile(manifestPath(), text);
  return changes;
}

/** Removes exactly what install added; without install's record it removes only claudemesh's own entries. */
export function uninstall(self: readonly string[] = selfCommand()): Change[] {
  const manifest = readManifest() ?? emptyManifest();
  const isOurs = ourHooks([...manifest.hookCommands, ...Object.values(wantedHooks(self))]);
  const cj = readJsonDoc(claudeJsonPath());
  const mcp = removeMcpServer(cj.data, manifest.claudeJson.created, cj.path);
  const st = readJsonDoc(claudeSettingsPath());
  const hooks = removeHooks(st.data, isOurs, manifest.settings.created, st.path);

  const changes: Change[] = [];
  const record = (what: string, doc: JsonDoc, edit: EditResult, rec: Manifest["claudeJson"]) => {
    if (!edit.changed) return changes.push({ what, path: doc.path, action: "absent" });
    // A file install created and that now holds nothing is removed rather than left as "{}".
    if (rec.createdFile && Object.keys(edit.data).length === 0) {
      rmSync(doc.path);
      if (rec.createdDir && readdirSync(dirname(doc.path)).length === 0) rmdirSync(dirname(doc.path));
      return changes.push({ what, path: doc.path, action: "removed" });
    }
    changes.push({ what, path: doc.path, action: "removed", backup: commit(doc, edit) });
  };
  record("MCP server", cj, mcp, manifest.claudeJson);
  record("hooks", st, hooks, manifest.settings);

  const guide = guidePath();
  if (existsSync(guide) && (manifest.guide || readFileSync(guide, "utf8") === CLAUDEMESH_GUIDE)) {
    rmSync(guide);
    changes.push({ what: "guide", path: guide, action: "removed" });
  } else {
    changes.push({ what: "guide", path: guide, action: "absent" });
  }
  rmSync(manifestPath(), { force: true });
  return changes;
}
