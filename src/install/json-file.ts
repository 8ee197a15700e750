import { chmodSync, copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { ConfigError } from "../util/errors.ts";

export type JsonObject = Record<string, unknown>;

/** A user's JSON file as found, with what is needed to write it back in the same style. */
export interface JsonDoc {
  path: string;
  exists: boolean;
  text: string;
  data: JsonObject;
  /** JSON.stringify's `space`: the file's own indentation, 0 for a one-line file */
  indent: string | number;
  trailingNewline: boolean;
  mode: number;
}

export const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

export function readJsonDoc(path: string): JsonDoc {
  if (!existsSync(path)) return { path, exists: false, text: "", data: {}, indent: 2, trailingNewline: true, mode: 0o600 };
  const text = readFileSync(path, "utf8");
  let data: unknown;
  try {
    data = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new ConfigError(`${path} is not valid JSON; fix it first (nothing was changed)`);
  }
  if (!isObject(data)) throw new ConfigError(`${path} does not hold a JSON object; fix it first (nothing was changed)`);
  const trimmed = text.trim();
  // A one-line file stays one line; "{}" says nothing about style, so it gets the usual 2 spaces.
  const indent = /^\{\r?\n([ \t]+)"/.exec(text)?.[1] ?? (trimmed.includes("\n") || trimmed === "{}" || trimmed === "" ? 2 : 0);
  return { path, exists: true, text, data, indent, trailingNewline: text.endsWith("\n") || text.trim() === "", mode: statSync(path).mode & 0o777 };
}

/** Serializes in the file's own style, so a round trip through us leaves a JSON.stringify-written file byte-for-byte intact. */
export function render(doc: JsonDoc, data: JsonObject): string {
  return JSON.stringify(data, null, doc.indent) + (doc.trailingNewline ? "\n" : "");
}

/** `<file>.claudemesh-backup-<timestamp>`, same mode as the file. */
export function backupFile(path: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  let backup = `${path}.claudemesh-backup-${stamp}`;
  for (let i = 1; existsSync(backup); i++) backup = `${path}.claudemesh-backup-${stamp}-${i}`;
  copyFileSync(path, backup);
  chmodSync(backup, statSync(path).mode & 0o777);
  return backup;
}
