import type { BrokerLimits } from "../broker/config.ts";
import { WireError } from "../protocol/wire-error.ts";
import { charLength, textProblem, utf8Bytes } from "../util/text.ts";

export function checkContent(content: string, limits: BrokerLimits): string {
  const bytes = utf8Bytes(content);
  if (bytes > limits.maxMemoryBytes) throw new WireError("value_too_large", `memory is ${bytes} bytes; the limit is ${limits.maxMemoryBytes}`);
  if (!content.trim()) throw new WireError("invalid_argument", "memory content must not be empty");
  const p = textProblem(content);
  if (p) throw new WireError("invalid_argument", `memory content ${p}`);
  return content;
}

/** Tags are trimmed, lower-cased and de-duplicated (first occurrence keeps its place), so filters match regardless of case. */
export function normalizeTags(tags: string[] | undefined, limits: BrokerLimits): string[] {
  const out = new Set<string>();
  for (const raw of tags ?? []) {
    const tag = raw.trim().toLowerCase();
    if (!tag) throw new WireError("invalid_argument", "tags must not be empty");
    const len = charLength(tag);
    if (len > limits.maxTagChars)
      throw new WireError("invalid_argument", `tag "${[...tag].slice(0, 20).join("")}…" is ${len} characters; the limit is ${limits.maxTagChars}`);
    const p = textProblem(tag);
    if (p) throw new WireError("invalid_argument", `a tag ${p}`);
    out.add(tag);
  }
  if (out.size > limits.maxMemoryTags) throw new WireError("invalid_argument", `${out.size} tags; the limit is ${limits.maxMemoryTags}`);
  return [...out];
}
