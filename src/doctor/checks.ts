import { existsSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { configPath, type MeshConfig } from "../client/config.ts";
import { MAX_CLOCK_SKEW_MS } from "../protocol/clock.ts";
import { probeMesh } from "../client/probe.ts";
import { isObject, readJsonDoc } from "../install/json-file.ts";
import { claudeJsonPath, claudeSettingsPath } from "../install/paths.ts";
import { claudemeshHome, tildify } from "../util/home.ts";
import { HOOK_EVENTS, MCP_SERVER_NAME } from "../launch/claude-config.ts";
import { autonomousRootFix, CLAUDE_BIN_ENV, refusesAutonomousRoot, resolveClaudeBin } from "../launch/run-claude.ts";

/**
 * The oldest Claude Code verified end to end (channels, the dialogs, flags and hooks `launch` relies on):
 * older releases may work but nothing proves it. .ci/run runs the real-Claude suite against it.
 */
export const MIN_CLAUDE_VERSION = "2.1.197";
/** The newest release verified end to end (the pinned devDependency); later ones are probably fine. */
export const NEWEST_VERIFIED_CLAUDE_VERSION = "2.1.332";
/** The broker refuses a hello whose timestamp is further off than this (DESIGN: ±60 s). */

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** what to do about a failure */
  hint?: string;
}

const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string, hint: string): CheckResult => ({ name, ok: false, detail, hint });
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function parseVersion(s: string): [number, number, number] | null {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(s);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

export function versionAtLeast(v: [number, number, number], min: string): boolean {
  const m = parseVersion(min) as [number, number, number];
  for (let i = 0; i < 3; i++) if (v[i] !== m[i]) return (v[i] as number) > (m[i] as number);
  return true;
}

export async function checkClaude(env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const name = "claude binary";
  const { wanted, path } = resolveClaudeBin(env);
  const install = `install Claude Code (npm install -g @anthropic-ai/claude-code) or point ${CLAUDE_BIN_ENV} at it`;
  if (!path) return fail(name, `${wanted} not found${env[CLAUDE_BIN_ENV] ? ` (${CLAUDE_BIN_ENV})` : " on PATH"}`, install);
  let out: string;
  try {
    const p = Bun.spawn([path, "--version"], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env });
    const timer = setTimeout(() => p.kill(), 15_000);
    out = await new Response(p.stdout).text();
    clearTimeout(timer);
    if ((await p.exited) !== 0) return fail(name, `${path} --version failed`, install);
  } catch (e) {
    return fail(name, `${path} --version: ${message(e)}`, install);
  }
  const v = parseVersion(out);
  if (!v) return fail(name, `cannot read a version from "${out.trim()}" (${path})`, install);
  const version = v.join(".");
  if (!versionAtLeast(v, MIN_CLAUDE_VERSION)) {
    return fail(
      name,
      `${version} at ${path}: claudemesh needs Claude Code ${MIN_CLAUDE_VERSION} or newer`,
      "update Claude Code: npm install -g @anthropic-ai/claude-code@latest (or `claude update`)",
    );
  }
  const newer = version !== NEWEST_VERIFIED_CLAUDE_VERSION && versionAtLeast(v, NEWEST_VERIFIED_CLAUDE_VERSION);
  const range = `supported ${MIN_CLAUDE_VERSION}–${NEWEST_VERIFIED_CLAUDE_VERSION}`;
  return pass(
    name,
    newer
      ? `${version} at ${path}: newer than the newest verified (${NEWEST_VERIFIED_CLAUDE_VERSION}); should work, not yet proven (${range})`
      : `${version} at ${path} (${range})`,
  );
}

/**
 * `launch` runs Claude Code in autonomous mode, which Claude Code refuses as root outside a sandbox it is
 * told of: said here rather than by a session that exits at once. Only as root is there anything to say.
 */
export function checkRootLaunch(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): CheckResult | null {
  if (uid !== 0) return null;
  const name = "launch as root";
  if (!refusesAutonomousRoot(env, uid)) return pass(name, "Claude Code allows autonomous mode here (IS_SANDBOX=1 or CLAUDE_CODE_BUBBLEWRAP)");
  return fail(name, "Claude Code refuses `launch`'s autonomous mode (--dangerously-skip-permissions) as root", autonomousRootFix(env));
}

const PER_SESSION = "fine: `claudemesh launch` wires it per session; `claudemesh install` adds it for plain `claude`";

function commandExists(cmd: string): boolean {
  return isAbsolute(cmd) ? existsSync(cmd) : Bun.which(cmd) !== null;
}

export function checkMcpRegistration(path = claudeJsonPath()): CheckResult {
  const name = "MCP server (user scope)";
  let data;
  try {
    data = readJsonDoc(path).data;
  } catch (e) {
    return fail(name, message(e), `repair ${tildify(path)} (Claude Code keeps it as plain JSON)`);
  }
  const entry = isObject(data.mcpServers) ? data.mcpServers[MCP_SERVER_NAME] : undefined;
  if (entry === undefined) return pass(name, `not registered in ${tildify(path)} — ${PER_SESSION}`);
  const command = isObject(entry) && typeof entry.command === "string" ? entry.command : "";
  if (!command || !commandExists(command)) {
    return fail(
      name,
      `registered in ${tildify(path)}, but its command "${command}" does not exist`,
      "run `claudemesh install` again from the claudemesh you use now",
    );
  }
  return pass(name, `registered in ${tildify(path)} (${command})`);
}

export function checkHooksRegistration(path = claudeSettingsPath()): CheckResult {
  const name = "hooks (user scope)";
  let data;
  try {
    data = readJsonDoc(path).data;
  } catch (e) {
    return fail(name, message(e), `repair ${tildify(path)}`);
  }
  const hooks = isObject(data.hooks) ? data.hooks : {};
  const hasOurs = (event: string) =>
    Array.isArray(hooks[event]) &&
    (hooks[event] as unknown[]).some(
      (g) =>
        isObject(g) &&
        Array.isArray(g.hooks) &&
        g.hooks.some((h) => isObject(h) && typeof h.command === "string" && / hook (working|idle|context)$/.test(h.command)),
    );
  const events = Object.keys(HOOK_EVENTS);
  const present = events.filter(hasOurs);
  if (present.length === 0) return pass(name, `not registered in ${tildify(path)} — ${PER_SESSION}`);
  if (present.length < events.length) {
    return fail(name, `only ${present.join(", ")} of ${events.join(", ")} in ${tildify(path)}`, "run `claudemesh install` again");
  }
  return pass(name, `${events.join(", ")} in ${tildify(path)}`);
}

export function checkPermissions(): CheckResult[] {
  const out: CheckResult[] = [];
  const dir = claudemeshHome();
  if (existsSync(dir)) {
    const mode = statSync(dir).mode & 0o777;
    out.push(
      mode === 0o700
        ? pass("config dir permissions", `${tildify(dir)} is 0700`)
        : fail("config dir permissions", `${tildify(dir)} is 0${mode.toString(8)}, should be 0700`, `chmod 700 ${dir}`),
    );
  }
  const file = configPath();
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    out.push(
      mode === 0o600
        ? pass("config file permissions", `${tildify(file)} is 0600`)
        : fail("config file permissions", `${tildify(file)} is 0${mode.toString(8)}, should be 0600 (it holds your secret keys)`, `chmod 600 ${file}`),
    );
  }
  return out;
}

export function checkMeshesJoined(meshes: MeshConfig[]): CheckResult {
  return meshes.length > 0
    ? pass("meshes joined", meshes.map((m) => m.slug).join(", "))
    : fail("meshes joined", "none yet", "join one with `claudemesh join <invite-url>`");
}

/** Group messages are sealed with the mesh key, which only ever travels in the invite URL's fragment. */
export function checkMeshKey(mesh: MeshConfig): CheckResult {
  const name = `mesh key for ${mesh.slug}`;
  return mesh.rootKey
    ? pass(name, "present")
    : fail(
        name,
        "missing: group and broadcast messages cannot be read or sent",
        "run `claudemesh join` again with the whole invite URL in quotes: the part after # is the mesh key",
      );
}

export async function checkBroker(mesh: MeshConfig, timeoutMs = 5000): Promise<CheckResult> {
  const name = `broker for ${mesh.slug}`;
  const p = await probeMesh(mesh, timeoutMs);
  if (!p.reachable)
    return fail(name, `${p.brokerUrl} unreachable: ${p.error}`, "check that the broker is running and reachable from here (URL, network, firewall)");
  const skew = Math.round(p.skewMs ?? 0);
  const timing = `rtt ${p.rttMs}ms, clock skew ${skew >= 0 ? "+" : ""}${skew}ms`;
  if (Math.abs(skew) > MAX_CLOCK_SKEW_MS)
    return fail(
      name,
      `${p.brokerUrl}: ${timing}; the broker refuses hellos more than ${MAX_CLOCK_SKEW_MS / 1000}s off`,
      "sync this machine's clock (e.g. `timedatectl set-ntp true`)",
    );
  if (!p.authenticated)
    return fail(name, `${p.brokerUrl} refused this member: ${p.error}`, "your membership may be revoked: ask for a new invite and `claudemesh join` it");
  return pass(name, `${p.brokerUrl}: ${timing}, ${p.peersOnline} peer(s) online`);
}
