import { z } from "zod";

/** The rows the meshes feature keeps; repo.ts maps database columns onto these. */
export const MemberRole = z.enum(["owner", "admin", "member"]);
export type MemberRole = z.infer<typeof MemberRole>;

export const Mesh = z.object({ id: z.string(), slug: z.string(), ownerPubkey: z.string(), createdAt: z.number() });
export type Mesh = z.infer<typeof Mesh>;

export const Member = z.object({
  id: z.string(),
  meshId: z.string(),
  pubkey: z.string(),
  displayName: z.string(),
  role: MemberRole,
  joinedAt: z.number(),
  revokedAt: z.number().nullable(),
});
export type Member = z.infer<typeof Member>;

export const Invite = z.object({
  id: z.string(),
  meshId: z.string(),
  role: MemberRole,
  maxUses: z.number().nullable(),
  uses: z.number(),
  expiresAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
  createdAt: z.number(),
});
export type Invite = z.infer<typeof Invite>;
