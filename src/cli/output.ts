import { InvalidArgument } from "../util/errors.ts";
import { printable } from "../util/printable.ts";

/** Human output goes to stdout; `--json` prints exactly one JSON document instead. */
export function print(line = ""): void {
  process.stdout.write(line + "\n");
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** `30m`, `12h`, `7d`, `2w` → milliseconds; `never` → null. */
export function parseDuration(s: string): number | null {
  if (s === "never") return null;
  const m = s.match(/^(\d+)\s*(s|m|h|d|w)$/);
  if (!m) throw new InvalidArgument(`invalid duration "${s}" (use e.g. 30m, 12h, 7d, 2w or never)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as "s" | "m" | "h" | "d" | "w"];
  return Number(m[1]) * unit * 1000;
}

/** Cells are made printable first: names come from other members and may hold escape sequences. */
export function table(raw: string[][]): string {
  const rows = raw.map((r) => r.map((c) => printable(c)));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
