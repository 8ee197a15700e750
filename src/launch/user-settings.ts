import { existsSync, readFileSync } from "node:fs";
import { InvalidArgument } from "../util/errors.ts";

/** A `--settings` value as claude takes it: inline JSON or a path to a JSON file. */
export function loadSettingsArg(value: string): Record<string, unknown> {
  const inline = value.trim().startsWith("{");
  if (!inline && !existsSync(value)) throw new InvalidArgument(`--settings: no such file ${value}`);
  try {
    const parsed: unknown = JSON.parse(inline ? value : readFileSync(value, "utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InvalidArgument(`--settings ${inline ? "value" : value} is not a JSON object`);
}
