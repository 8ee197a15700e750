import { WireError } from "../protocol/wire-error.ts";
import { charLength } from "../util/text.ts";

/** Longest display name, in characters. */
export const MAX_NAME_CHARS = 255;
/** Longest stored name in a blob key, in UTF-8 bytes (S3 keys allow 1024 in all). */
const MAX_STORED_BYTES = 200;
// C0, DEL and C1 controls, plus bidi overrides that make a name read differently from what it is
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The name shown to people and models: the original, minus control characters (which no file name
 * needs and which could forge lines in a push). Too long or nothing left is a clear error.
 */
export function displayName(raw: string): string {
  const name = raw.replace(CONTROL, "").trim();
  if (!name.isWellFormed()) throw new WireError("invalid_argument", "file name contains an unpaired UTF-16 surrogate");
  if (name === "") throw new WireError("invalid_argument", "file name is empty (or only control characters)");
  const n = charLength(name);
  if (n > MAX_NAME_CHARS) throw new WireError("invalid_argument", `file name is ${n} characters; the limit is ${MAX_NAME_CHARS}`);
  return name;
}

/**
 * The name used in blob keys and as the default on download: one path segment, no separators, no
 * traversal, no leading dot, no controls, at most 200 bytes (the extension kept). `../../etc/passwd`
 * becomes `etc_passwd`.
 */
export function storedName(display: string): string {
  const segments = display
    .replace(CONTROL, "")
    .split(/[/\\]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "" && s !== "." && s !== "..");
  let name = segments
    .join("_")
    .replace(/[:*?"<>|]/g, "_")
    .replace(/^\.+/, "");
  if (name === "") name = "file";
  if (Buffer.byteLength(name) > MAX_STORED_BYTES) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
    let stem = name.slice(0, name.length - ext.length);
    while (Buffer.byteLength(stem + ext) > MAX_STORED_BYTES) stem = [...stem].slice(0, -1).join("");
    name = stem + ext;
  }
  return name;
}

/** From the name's extension; anything unknown is octet-stream. */
export function mimeType(name: string): string {
  return Bun.file(name).type.split(";")[0] || "application/octet-stream";
}
