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
    throw new WireError("unknown_type", `unknown frame type: ${typeof type === "string" ? type.slice(0, 64) : String(type)}`);
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) throw new WireError("invalid_frame", `invalid ${type} frame: ${describeIssues(parsed.error)}`);
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
