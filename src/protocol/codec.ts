import type { z } from "zod";
import { WireError } from "./wire-error.ts";
import { CLIENT_FRAME_TYPES, ClientFrame } from "./frames.ts";

/** Turns zod issues into one readable line: `to: Required; priority: Invalid enum value`. */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "(frame)"}: ${i.message}`)
    .join("; ");
}

/**
 * `schema.safeParse` of a value that came off the wire, with a failure as a description. Zod's length
 * checks compare any object's `length` with a number, even one the type check already refused, so
 * `{"id":{"length":{"toString":1}}}` makes zod throw a TypeError rather than fail: that is a failure too.
 */
export function parseWire<S extends z.ZodType>(schema: S, value: unknown): { ok: true; data: z.infer<S> } | { ok: false; issues: string } {
  try {
    const parsed = schema.safeParse(value);
    return parsed.success ? { ok: true, data: parsed.data } : { ok: false, issues: describeIssues(parsed.error) };
  } catch {
    return { ok: false, issues: "(frame): a value that is not what its field holds" };
  }
}

/**
 * A frame's `type` as an error may quote it. Never `String()` of an object: a client's own `toString` or
 * `valueOf` key (`{"type":{"toString":1}}`) makes that throw, and the frame would get an internal error.
 */
function shownType(type: unknown): string {
  if (typeof type === "string") return type.slice(0, 64);
  if (type === null || typeof type !== "object") return String(type);
  return Array.isArray(type) ? "an array" : "an object";
}

/** Parses one raw client frame at the boundary; every failure is an WireError with a distinct code. */
export function decodeClientFrame(raw: string, maxBytes: number): ClientFrame {
  if (Buffer.byteLength(raw) > maxBytes) throw new WireError("frame_too_large", `frame exceeds ${maxBytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new WireError("bad_json", "frame is not valid JSON");
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new WireError("invalid_frame", "frame must be a JSON object");
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== "string" || !CLIENT_FRAME_TYPES.has(type)) {
    throw new WireError("unknown_type", `unknown frame type: ${shownType(type)}`);
  }
  const parsed = parseWire(ClientFrame, json);
  if (!parsed.ok) throw new WireError("invalid_frame", `invalid ${type} frame: ${parsed.issues}`);
  return parsed.data;
}

/** Best-effort id extraction so even a malformed request's error can be correlated. */
export function extractId(raw: string): string | undefined {
  try {
    const j = JSON.parse(raw) as { id?: unknown };
    return typeof j?.id === "string" && j.id.length <= 128 ? j.id : undefined;
  } catch {
    return undefined;
  }
}

/** The `type` a malformed frame claims, so a broken hello can be told from other junk. */
export function extractType(raw: string): string | undefined {
  try {
    const j = JSON.parse(raw) as { type?: unknown };
    return typeof j?.type === "string" ? j.type : undefined;
  } catch {
    return undefined;
  }
}
