/**
 * Characters that change how a terminal or a reader sees text rather than adding to it: C0 and C1
 * controls (ESC, BEL, …), DEL, bidi embeddings/overrides/isolates and marks, zero-width characters, the
 * BOM, line/paragraph separators and interlinear annotations.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, "g");

/** True when `s` holds a character names may not: see UNPRINTABLE. */
export const hasUnprintable = (s: string): boolean => UNPRINTABLE.test(s);

/**
 * `s` made safe to print: each unprintable character becomes a visible `\u001b`-style escape and lone
 * surrogates become U+FFFD. `keepLines` keeps newlines and tabs (for multi-line texts, not table cells).
 */
export function printable(s: string, opts: { keepLines?: boolean } = {}): string {
  return s
    .toWellFormed()
    .replace(UNPRINTABLE_ALL, (c) => (opts.keepLines && (c === "\n" || c === "\t") ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/** `printable` applied to every string inside a JSON-like value (keys included). */
export function printableDeep(v: unknown, opts: { keepLines?: boolean } = {}): unknown {
  if (typeof v === "string") return printable(v, opts);
  if (Array.isArray(v)) return v.map((x) => printableDeep(x, opts));
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [printable(k, opts), printableDeep(x, opts)]));
  return v;
}
