import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateSigningKeyPair } from "../crypto/keys.ts";
import { type SessionInfo, writeSessionInfo } from "../session/session-dir.ts";
import { SESSION_ENV, SESSION_FILE } from "../session/paths.ts";
import { ensurePrivateDir, writeSecretFile } from "../util/fs.ts";
import { claudemeshHome, guidePath } from "../util/home.ts";
import { CLAUDEMESH_GUIDE } from "../mcp/guide.ts";
import { hooksFor, MCP_SERVER_NAME, mcpServerEntry, mergeSettings } from "./claude-config.ts";
import { pidAlive } from "../util/pid.ts";

export const MCP_CONFIG_FILE = "mcp-config.json";
export const SETTINGS_FILE = "settings.json";
/** Spec §9: a crashed launcher's dir is removed once it is this old and its pid is gone. */
export const ORPHAN_AGE_MS = 60 * 60 * 1000;

// Absolute, because the dir is handed to processes that may run elsewhere (mcp, hooks).
export const sessionsDir = () => resolve(claudemeshHome(), "sessions");

export interface LaunchSession {
  dir: string;
  mcpConfigPath: string;
  settingsPath: string;
  info: SessionInfo;
}

export interface NewSession {
  meshSlug: string;
  displayName: string;
  role: string | null;
  /** "frontend:lead,reviewers" form */
  groups: string;
  /** `launch --broker`: the session's one broker URL */
  broker?: string;
  /** how to run this claudemesh (util/self.ts selfCommand) */
  self: readonly string[];
  /** the user's own `--settings` contents, merged with ours */
  userSettings?: Record<string, unknown>[];
}

/**
 * A private dir per launch: the session keypair (so `mcp` reconnects keep the same key), the MCP config
 * that starts `claudemesh mcp` for this session, and the settings file with the status hooks.
 */
export function createSession(s: NewSession): LaunchSession {
  const home = resolve(claudemeshHome());
  ensurePrivateDir(home);
  ensurePrivateDir(sessionsDir());
  // The MCP instructions point the model at this file; without `install` it would not exist yet.
  if (!existsSync(guidePath())) writeFileSync(guidePath(), CLAUDEMESH_GUIDE, { mode: 0o644 });
  // mkdtemp is 0700 already; the name stays short because the hook socket inside must fit sun_path (~104 bytes).
  const dir = mkdtempSync(join(sessionsDir(), "s-"));
  chmodSync(dir, 0o700);
  const info: SessionInfo = {
    version: 1,
    meshSlug: s.meshSlug,
    displayName: s.displayName,
    role: s.role,
    groups: s.groups,
    sessionKey: generateSigningKeyPair(),
    createdAt: Date.now(),
    launcherPid: process.pid,
    ...(s.broker !== undefined ? { broker: s.broker } : {}),
  };
  writeSessionInfo(dir, info);
  const mcpConfigPath = join(dir, MCP_CONFIG_FILE);
  const entry = mcpServerEntry(s.self, { [SESSION_ENV]: dir, CLAUDEMESH_HOME: home });
  writeSecretFile(mcpConfigPath, JSON.stringify({ mcpServers: { [MCP_SERVER_NAME]: entry } }, null, 2) + "\n");
  const settingsPath = join(dir, SETTINGS_FILE);
  writeSecretFile(settingsPath, JSON.stringify(mergeSettings({ hooks: hooksFor(s.self) }, s.userSettings ?? []), null, 2) + "\n");
  return { dir, mcpConfigPath, settingsPath, info };
}

export function removeSession(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Removes session dirs left by launchers that crashed (older than an hour, launcher pid gone). Returns what it removed. */
export function cleanOrphanSessions(now = Date.now(), maxAgeMs = ORPHAN_AGE_MS): string[] {
  let names: string[];
  try {
    names = readdirSync(sessionsDir());
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const dir = join(sessionsDir(), name);
    try {
      if (!statSync(dir).isDirectory()) continue;
      let createdAt = statSync(dir).mtimeMs;
      let pid: number | null = null;
      try {
        const info = JSON.parse(readFileSync(join(dir, SESSION_FILE), "utf8")) as Partial<SessionInfo>;
        if (typeof info.createdAt === "number") createdAt = info.createdAt;
        if (typeof info.launcherPid === "number") pid = info.launcherPid;
      } catch {
        // a launcher that died while creating its dir: judged by the dir's age alone
      }
      if (now - createdAt < maxAgeMs) continue;
      if (pid !== null && pidAlive(pid)) continue;
      removeSession(dir);
      removed.push(dir);
    } catch {
      // another launcher may be cleaning the same dir at the same moment
    }
  }
  return removed;
}
