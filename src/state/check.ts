import type { BrokerLimits } from "../broker/config.ts";
import { WireError } from "../protocol/wire-error.ts";
import { charLength, textProblem, utf8Bytes } from "../util/text.ts";
import type { JsonValue } from "./frames.ts";

/** Deep enough for any real document, shallow enough for every recursive JSON walker (ours, zod, Postgres). */
export const MAX_JSON_DEPTH = 64;

/** Walks iteratively, so a hostile nesting depth cannot overflow the stack before it is refused. */
function jsonProblem(root: JsonValue): string | null {
  const stack: [JsonValue, number][] = [[root, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [JsonValue, number];
    if (typeof v === "string") {
      const p = textProblem(v);
      if (p) return `a string in the value ${p}`;
    } else if (v !== null && typeof v === "object") {
      if (depth > MAX_JSON_DEPTH) return `value nests deeper than ${MAX_JSON_DEPTH} levels`;
      if (Array.isArray(v)) for (const item of v) stack.push([item, depth + 1]);
      else
        for (const [k, item] of Object.entries(v)) {
          const p = textProblem(k);
          if (p) return `an object key in the value ${p}`;
          stack.push([item as JsonValue, depth + 1]);
        }
    }
  }
  return null;
}

export function checkStateKey(key: string, limits: BrokerLimits): void {
  const len = charLength(key);
  if (len > limits.maxStateKeyChars) throw new WireError("key_too_long", `state key is ${len} characters; the limit is ${limits.maxStateKeyChars}`);
  const p = textProblem(key);
  if (p) throw new WireError("invalid_argument", `state key ${p}`);
}

/** Validates a state value and returns its JSON text. */
export function checkStateValue(value: JsonValue, limits: BrokerLimits): string {
  const p = jsonProblem(value);
  if (p) throw new WireError("invalid_argument", p);
  const json = JSON.stringify(value);
  const bytes = utf8Bytes(json);
  if (bytes > limits.maxStateValueBytes) {
    throw new WireError("value_too_large", `state value is ${bytes} bytes of JSON; the limit is ${limits.maxStateValueBytes}`);
  }
  return json;
}
