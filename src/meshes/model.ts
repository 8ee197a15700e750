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
  /** the invite this member joined with (null for an owner created with its mesh) */
  inviteId: z.string().nullable(),
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
  /** member id of whoever minted it; null for the operator */
  createdBy: z.string().nullable(),
});
export type Invite = z.infer<typeof Invite>;
