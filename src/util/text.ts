/**
 * Why a string cannot be stored as given, or null. Postgres refuses NUL in text and jsonb, and a lone
 * UTF-16 surrogate would come back as U+FFFD; SQLite would keep both, so both backends refuse them alike.
 */
export function textProblem(s: string): string | null {
  if (s.includes("\u0000")) return "contains a NUL character";
  if (!s.isWellFormed()) return "contains an unpaired UTF-16 surrogate";
  return null;
}

/** Length in code points, the unit users count in. */
export const charLength = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, "utf8");
