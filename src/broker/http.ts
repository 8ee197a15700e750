import type { z } from "zod";
import { timingSafeEqual } from "node:crypto";
import { WireError } from "../protocol/wire-error.ts";
import type { BearerGrant, MeshAccess } from "./host.ts";

export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

/** `json` checked at compile time against the zod schema the client parses the answer with. */
export function reply<S extends z.ZodType>(_schema: S, body: z.infer<S>, status = 200): Response {
  return json(body, status);
}

export function errorResponse(err: unknown): Response {
  if (err instanceof WireError) return json({ error: { code: err.code, message: err.message } }, err.httpStatus);
  return json({ error: { code: "internal", message: "internal error" } }, 500);
}

/** Reads a body with a size cap, without parsing it: routes authenticate first. */
export async function readText(req: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new WireError("frame_too_large", `body exceeds ${maxBytes} bytes`, 413);
  if (Number(req.headers.get("content-length") ?? 0) > maxBytes) throw tooLarge();
  // Read chunk by chunk: a chunked body without a length must not be buffered past the cap (the server's
  // own body limit is as large as an upload).
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** A bad body is a structured 400, never a crash; an empty one is `{}`. */
export function parseJson(text: string): unknown {
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new WireError("bad_json", "body is not valid JSON");
  }
}

export async function readJson(req: Request, maxBytes: number): Promise<{ value: unknown; text: string }> {
  const text = await readText(req, maxBytes);
  return { value: parseJson(text), text };
}

export function bearer(req: Request): string | null {
  const h = req.headers.get("authorization");
  const m = h?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1] ?? null;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function isAdminToken(req: Request, adminToken: string): boolean {
  const t = bearer(req);
  return t !== null && safeEqual(t, adminToken);
}

/** The session bearer token from hello_ack, resolved by whichever feature issued it. */
export function sessionGrant(req: Request, auth: Pick<MeshAccess, "grant">): BearerGrant | null {
  const t = bearer(req);
  return t ? auth.grant(t) : null;
}

const MESH_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * A route parameter that must be a mesh id, checked for a request by the operator (admin token) or by an
 * owner/admin of that mesh (member-signed, empty body). Authentication comes before anything reads the
 * store for the mesh. `what` finishes "only mesh owners and admins … may …".
 */
export async function meshAdminRequest(auth: MeshAccess, req: Request & { params: Record<string, string> }, what: string): Promise<string> {
  const meshId = req.params.meshId ?? "";
  // ids are short printable ASCII; anything else (NUL, which Postgres refuses) can match no mesh
  if (!MESH_ID.test(meshId)) throw new WireError("invalid_argument", "invalid mesh id in the path");
  if (!auth.isAdmin(req)) {
    const member = await auth.signedMember(req, "");
    if (!member) throw new WireError("unauthorized", "sign the request with your member key or pass the admin token", 401);
    if (member.meshId !== meshId) throw new WireError("wrong_mesh", "you are not a member of this mesh", 403);
    if (member.role !== "owner" && member.role !== "admin")
      throw new WireError("forbidden", `only mesh owners and admins, or the broker's operator with its admin token, may ${what}`, 403);
  }
  return meshId;
}
