import type { ArgDef, ArgsDef, Resolvable } from "citty";
import { closest, distance } from "fastest-levenshtein";
import { type AnyCommand, UsageError, usageLine } from "./usage.ts";

const resolve = async <T>(v: Resolvable<T> | undefined): Promise<T | undefined> => (typeof v === "function" ? (v as () => T | Promise<T>)() : v);

/** `hint` is set when a word was taken as the default subcommand's argument but looks like a misspelt subcommand. */
export type Resolved = { cmd: AnyCommand; path: string[]; rest: string[]; help: boolean; hint: string };

const isHelp = (t: string) => t === "--help" || t === "-h";
// as citty parses them: "-1" is short flags, not a number, so a word starting with - is a flag to us too
const isFlag = (t: string) => t.startsWith("-") && t !== "-";

/** "did you mean …?" for a close enough candidate, else "". */
export function suggest(word: string, candidates: string[], render = (c: string) => c): string {
  if (candidates.length === 0) return "";
  const best = closest(word, candidates);
  const prefix = candidates.find((c) => c.startsWith(word) || word.startsWith(c));
  const pick = distance(word, best) <= Math.max(1, Math.floor(best.length / 3)) ? best : prefix;
  return pick ? `; did you mean ${render(pick)}?` : "";
}

/**
 * Walks citty's subcommand tree to the command the argv names. citty's runCommand dispatches the same
 * way but cannot show a subcommand's own usage or tell a typo from an argument, so the walk is ours;
 * citty still parses the arguments and runs the command.
 *
 * A command with `default` and subcommands (`members`, `invite`) takes a first word that is not one of
 * its subcommands as the default subcommand's first argument: `members dev-team` = `members list dev-team`.
 */
export async function resolveCommand(root: AnyCommand, argv: string[]): Promise<Resolved> {
  let cmd = root;
  const path = ["claudemesh"];
  let rest = argv;
  let hint = "";
  for (;;) {
    const subs = await resolve(cmd.subCommands);
    if (!subs || Object.keys(subs).length === 0) break;
    const names = Object.keys(subs);
    const end = rest.indexOf("--");
    const head = end === -1 ? rest : rest.slice(0, end);
    const idx = head.findIndex((t) => !isFlag(t));
    const def = (await resolve(cmd.default)) as string | undefined;
    if (idx === -1) {
      if (head.some(isHelp)) break;
      if (def && def in subs) {
        cmd = (await resolve(subs[def])) as AnyCommand;
        path.push(def);
        continue;
      }
      if (cmd.run) break;
      throw new UsageError(`${path.join(" ")}: missing command, one of: ${names.join(", ")}`, await usageLine(cmd, path));
    }
    const name = head[idx] as string;
    if (name in subs) {
      cmd = (await resolve(subs[name])) as AnyCommand;
      path.push(name);
      rest = [...rest.slice(0, idx), ...rest.slice(idx + 1)];
      continue;
    }
    if (def && def in subs) {
      hint = suggest(name, names, (c) => `\`${[...path, c].join(" ")}\``);
      cmd = (await resolve(subs[def])) as AnyCommand;
      path.push(def);
      continue;
    }
    throw new UsageError(
      `${path.join(" ")}: unknown command "${name}"${suggest(name, names, (c) => `\`${[...path, c].join(" ")}\``)}`,
      await usageLine(cmd, path),
    );
  }
  const end = rest.indexOf("--");
  const help = (end === -1 ? rest : rest.slice(0, end)).some(isHelp);
  return { cmd, path, rest, help, hint };
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const takesValue = (d: ArgDef) => d.type === "string" || d.type === "enum";
const aliases = (d: ArgDef): string[] => ("alias" in d && d.alias ? (Array.isArray(d.alias) ? d.alias : [d.alias]) : []);

/**
 * citty's parser accepts any flag and ignores what it does not know, so `invite t1 --use 3` would mint
 * an unlimited invite. Everything up to `--` is checked against the command's declared arguments here:
 * unknown flags, a value flag without its value, a missing or an extra positional are usage errors.
 */
export async function checkArgs(r: Resolved): Promise<void> {
  const defs = ((await resolve(r.cmd.args)) ?? {}) as ArgsDef;
  const entries = Object.entries(defs);
  const byLong = new Map<string, [string, ArgDef]>();
  const byShort = new Map<string, [string, ArgDef]>();
  for (const [name, d] of entries) {
    if (d.type === "positional") continue;
    for (const n of [name, camel(name), kebab(name)]) byLong.set(n, [name, d]);
    for (const a of aliases(d)) (a.length === 1 ? byShort : byLong).set(a, [name, d]);
  }
  const fail = async (msg: string) => {
    throw new UsageError(`${r.path.join(" ")}: ${msg}${r.hint}`, await usageLine(r.cmd, r.path));
  };
  const positionals: string[] = [];
  const seen = new Set<string>();
  const end = r.rest.indexOf("--");
  const head = end === -1 ? r.rest : r.rest.slice(0, end);
  for (let i = 0; i < head.length; i++) {
    const tok = head[i] as string;
    if (isHelp(tok)) continue;
    if (!isFlag(tok)) {
      positionals.push(tok);
      continue;
    }
    if (tok.startsWith("--")) {
      const [raw = "", ...value] = tok.slice(2).split("=");
      const hit = byLong.get(raw) ?? (raw.startsWith("no-") ? byLong.get(raw.slice(3)) : undefined);
      if (!hit)
        await fail(`unknown flag --${raw}${suggest(raw, [...new Set(entries.filter(([, d]) => d.type !== "positional").map(([n]) => n))], (c) => `--${c}`)}`);
      const [name, d] = hit as [string, ArgDef];
      seen.add(name);
      if (takesValue(d) && value.length === 0 && !raw.startsWith("no-")) {
        if (i + 1 >= head.length) await fail(`--${raw} needs a value`);
        i++;
      }
      continue;
    }
    const letters = tok.slice(1);
    for (let j = 0; j < letters.length; j++) {
      const hit = byShort.get(letters[j] as string);
      if (!hit) await fail(`unknown flag -${letters[j]}`);
      const [name, d] = hit as [string, ArgDef];
      seen.add(name);
      if (takesValue(d) && j === letters.length - 1) {
        if (i + 1 >= head.length) await fail(`-${letters[j]} needs a value`);
        i++;
      }
    }
  }
  const declared = entries.filter(([, d]) => d.type === "positional");
  if (positionals.length > declared.length) await fail(`unexpected argument "${positionals[declared.length]}"`);
  for (const [i, [name, d]] of declared.entries()) {
    // an empty word is what `claudemesh share "$FILE"` passes with FILE unset: as missing as no word
    if ((positionals[i] ?? "") === "" && d.required !== false && d.default === undefined) {
      await fail(`missing <${name.toUpperCase()}>${d.description ? ` (${d.description})` : ""}`);
    }
  }
  for (const [name, d] of entries) {
    if (d.type !== "positional" && d.required === true && d.default === undefined && !seen.has(name)) {
      await fail(`missing --${name}${d.description ? ` (${d.description})` : ""}`);
    }
  }
}
