import { type CommandHook, type HookEvent, type HookGroup, MCP_SERVER_NAME, type McpServerEntry } from "../launch/claude-config.ts";
import { ConfigError } from "../util/errors.ts";
import { isObject, type JsonObject } from "./json-file.ts";

/**
 * Pure edits of Claude Code's user files. Each returns a new object and never touches a key it does
 * not own. `created` lists the containers an add had to create ("mcpServers", "hooks", "hooks.Stop"),
 * so that a remove can take out exactly those and leave a user's own empty containers alone.
 */
export interface EditResult {
  data: JsonObject;
  changed: boolean;
  created: string[];
}

const clone = (o: JsonObject): JsonObject => structuredClone(o);

function objectAt(data: JsonObject, key: string, file: string): JsonObject | undefined {
  const v = data[key];
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new ConfigError(`"${key}" in ${file} is not an object; fix it first (nothing was changed)`);
  return v;
}

export function addMcpServer(data: JsonObject, entry: McpServerEntry, file: string): EditResult {
  const current = objectAt(data, "mcpServers", file);
  if (current && Bun.deepEquals(current[MCP_SERVER_NAME], entry)) return { data, changed: false, created: [] };
  const out = clone(data);
  const created: string[] = [];
  if (!current) {
    out.mcpServers = {};
    created.push("mcpServers");
  }
  (out.mcpServers as JsonObject)[MCP_SERVER_NAME] = entry;
  return { data: out, changed: true, created };
}

export function removeMcpServer(data: JsonObject, created: readonly string[], file: string): EditResult {
  const current = objectAt(data, "mcpServers", file);
  if (!current || !(MCP_SERVER_NAME in current)) return { data, changed: false, created: [] };
  const out = clone(data);
  const servers = out.mcpServers as JsonObject;
  delete servers[MCP_SERVER_NAME];
  if (created.includes("mcpServers") && Object.keys(servers).length === 0) delete out.mcpServers;
  return { data: out, changed: true, created: [] };
}

const isCommandHook = (h: unknown): h is CommandHook => isObject(h) && h.type === "command" && typeof h.command === "string";

/** Drops our hooks from every group of one event; a group left empty by that was ours and goes too. */
function withoutOurs(groups: unknown[], isOurs: (command: string) => boolean): unknown[] {
  const out: unknown[] = [];
  for (const g of groups) {
    if (!isObject(g) || !Array.isArray(g.hooks)) {
      out.push(g);
      continue;
    }
    const kept = g.hooks.filter((h) => !(isCommandHook(h) && isOurs(h.command)));
    if (kept.length === g.hooks.length) out.push(g);
    else if (kept.length > 0) out.push({ ...g, hooks: kept });
  }
  return out;
}

/**
 * Makes each event run exactly our command once: stale claudemesh hooks (an older binary path) are
 * replaced, anything else is kept in place and in order.
 */
export function addHooks(data: JsonObject, wanted: Record<HookEvent, string>, isOurs: (command: string) => boolean, file: string): EditResult {
  const hooks = objectAt(data, "hooks", file) ?? {};
  const created: string[] = data.hooks === undefined ? ["hooks"] : [];
  const next: JsonObject = { ...hooks };
  let changed = false;
  for (const [event, command] of Object.entries(wanted) as [HookEvent, string][]) {
    const groups = hooks[event];
    if (groups !== undefined && !Array.isArray(groups)) throw new ConfigError(`"hooks.${event}" in ${file} is not a list; fix it first (nothing was changed)`);
    const list = groups ?? [];
    const ourCommands = list.flatMap((g) => (isObject(g) && Array.isArray(g.hooks) ? g.hooks.filter(isCommandHook).map((h) => h.command) : [])).filter(isOurs);
    if (ourCommands.length === 1 && ourCommands[0] === command) continue;
    const group: HookGroup = { hooks: [{ type: "command", command }] };
    next[event] = [...withoutOurs(list, isOurs), group];
    if (groups === undefined) created.push(`hooks.${event}`);
    changed = true;
  }
  if (!changed) return { data, changed: false, created: [] };
  return { data: { ...clone(data), hooks: next }, changed: true, created };
}

export function removeHooks(data: JsonObject, isOurs: (command: string) => boolean, created: readonly string[], file: string): EditResult {
  const hooks = objectAt(data, "hooks", file);
  if (!hooks) return { data, changed: false, created: [] };
  const next: JsonObject = { ...hooks };
  let changed = false;
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) continue;
    const kept = withoutOurs(groups, isOurs);
    if (kept.length === groups.length && kept.every((g, i) => g === groups[i])) continue;
    changed = true;
    if (kept.length === 0 && created.includes(`hooks.${event}`)) delete next[event];
    else next[event] = kept;
  }
  if (!changed) return { data, changed: false, created: [] };
  const out = clone(data);
  if (Object.keys(next).length === 0 && created.includes("hooks")) delete out.hooks;
  else out.hooks = next;
  return { data: out, changed: true, created: [] };
}
