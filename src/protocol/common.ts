import { z } from "zod";
import { hasUnprintable } from "../util/printable.ts";
import { textProblem } from "../util/text.ts";

/** For text a frame carries into the store or its queries: Postgres refuses NUL, and both backends refuse alike (`textProblem`). */
export const storable = [(s: string) => textProblem(s) === null, "must not contain NUL or an unpaired UTF-16 surrogate"] as const;
/** An id a client names a row by (a mesh, a member, a message, its own client id). */
export const StoredId = z
  .string()
  .min(1)
  .max(128)
  .refine(...storable);

/** Client-chosen correlation id; echoed on the response. */
export const ReqId = z.string().min(1).max(128);
export const optId = { id: ReqId.optional() };

export const Base64Key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "must be a base64 32-byte key");
export const Base64Sig = z.string().regex(/^[A-Za-z0-9+/]{86}==$/, "must be a base64 64-byte signature");

const NO_UNPRINTABLE = "must not contain control characters (ESC, BEL, DEL, C0/C1), bidi overrides or isolates, or zero-width characters";

/** Names are routing targets, so they may not look like `@group` or `*`; what a peer sees is what it is. */
export const DisplayName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((s) => !hasUnprintable(s), NO_UNPRINTABLE)
  .refine((s) => !s.startsWith("@") && s !== "*" && !s.includes(","), "must not start with @, be *, or contain commas");

export const GroupName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, _ . or -");
export const GroupRole = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((s) => !hasUnprintable(s), NO_UNPRINTABLE);
export const Status = z.enum(["idle", "working", "dnd"]);
export type Status = z.infer<typeof Status>;

export const GroupMembership = z.object({ name: GroupName, role: GroupRole.nullable() });
export type GroupMembership = z.infer<typeof GroupMembership>;

/** `"frontend:lead,reviewers"` → [{frontend, lead}, {reviewers, null}]; throws on a bad entry. */
export function parseGroupSpec(spec: string): GroupMembership[] {
  const out = new Map<string, string | null>();
  for (const raw of spec.split(",")) {
    const part = raw.trim();
    if (!part) continue;
    const idx = part.indexOf(":");
    const name = GroupName.parse(idx === -1 ? part : part.slice(0, idx).trim());
    const role = idx === -1 ? null : GroupRole.parse(part.slice(idx + 1));
    out.set(name, role);
  }
  return [...out].map(([name, role]) => ({ name, role }));
}

export const GroupsField = z.union([
  z
    .string()
    .max(4096)
    .transform((s, ctx) => {
      try {
        return parseGroupSpec(s);
      } catch {
        ctx.addIssue({ code: "custom", message: 'groups must look like "frontend:lead,reviewers"' });
        return z.NEVER;
      }
    }),
  z.array(GroupMembership).max(64),
]);

/** A broker's base URL as clients dial it (hello_ack's failover list, the mesh config). */
export const BrokerUrl = z.url({ protocol: /^https?$/ }).max(2048);
