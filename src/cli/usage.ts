import { stripVTControlCharacters } from "node:util";
import { type CommandDef, renderUsage } from "citty";
import { examplesOf } from "./command-meta.ts";

export { UsageError, withExamples } from "./command-meta.ts";

// citty's CommandDef is generic over each command's args; the helpers here only need "some command".
export type AnyCommand = CommandDef<any>;

/** NO_COLOR (any value, no-color.org) and TERM=dumb turn colours off; so does anything that is not a terminal. */
export function colours(stream: { isTTY?: boolean }): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

export const plain = (s: string): string => stripVTControlCharacters(s);

/**
 * citty's own usage, with our full command path as its name, the example appended, and the two things
 * citty does not do: trailing padding removed and colours dropped unless `colour` is set.
 */
export async function usageText(cmd: AnyCommand, path: string[], colour: boolean): Promise<string> {
  const parent: AnyCommand = { meta: { name: path.slice(0, -1).join(" ") } };
  let text = (await renderUsage(cmd, path.length > 1 ? parent : undefined)).trimEnd();
  const def = typeof cmd.default === "string" ? cmd.default : undefined;
  const subs = cmd.subCommands && typeof cmd.subCommands === "object" && !(cmd.subCommands instanceof Promise) ? cmd.subCommands : undefined;
  const defCmd = def && subs ? subs[def] : undefined;
  if (defCmd && typeof defCmd === "object" && !(defCmd instanceof Promise)) {
    // citty's usage line names the subcommands only; the default one's own form is the common case.
    const own = (await usageLine(defCmd, [...path, def as string])).slice("usage: ".length).replace(` ${def} `, " ");
    text = text.replace(/^(.*USAGE.*)$/m, `$1\n${" ".repeat(6)}${own}   (= ${path.at(-1)} ${def})`);
  }
  const ex = examplesOf(cmd);
  if (ex.length) text += `\n\n${colour ? "\u001B[4m\u001B[1mEXAMPLE\u001B[22m\u001B[24m" : "EXAMPLE"}\n\n${ex.map((l) => `  ${l}`).join("\n")}`;
  if (!colour) text = plain(text);
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
}

/** The one `USAGE …` line of a command, without colour, for error messages. */
export async function usageLine(cmd: AnyCommand, path: string[]): Promise<string> {
  const text = await usageText(cmd, path, false);
  const line = text.split("\n").find((l) => l.startsWith("USAGE ")) ?? `USAGE ${path.join(" ")}`;
  return `usage: ${line.slice("USAGE ".length)}`;
}
