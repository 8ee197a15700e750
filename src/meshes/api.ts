import { z } from "zod";
import { Base64Key, Base64Sig, DisplayName } from "../protocol/common.ts";

/** HTTP bodies of the mesh-administration and join routes; the CLI and broker share these. */
export const JoinRequest = z.object({ token: z.string().min(1).max(256), pubkey: Base64Key, displayName: DisplayName });
export const JoinResponse = z.object({
  meshId: z.string(),
  slug: z.string(),
  memberId: z.string(),
  role: z.string(),
  displayName: z.string(),
  created: z.boolean(),
});

export const InviteRole = z.enum(["member", "admin"]);
const MaxUses = z.number().int().positive().max(1_000_000);
export const CreateMeshRequest = z.object({
  slug: z.string().min(1).max(63),
  ownerPubkey: Base64Key,
  ownerName: DisplayName,
  /** uses of the invite minted with the mesh: one unless asked otherwise (null: unlimited) */
  inviteMaxUses: MaxUses.nullable().default(1),
});
export const CreateInviteRequest = z.object({
  role: InviteRole.default("member"),
  maxUses: MaxUses.nullable().default(null),
  expiresInSeconds: z
    .number()
    .int()
    .positive()
    .max(365 * 24 * 3600)
    .nullable()
    .default(7 * 24 * 3600),
});
export const InviteResponse = z.object({
  inviteId: z.string(),
  token: z.string(),
  expiresAt: z.number().nullable(),
  role: z.string(),
  maxUses: z.number().nullable(),
});
export const CreateMeshResponse = z.object({
  meshId: z.string(),
  slug: z.string(),
  memberId: z.string(),
  invite: InviteResponse,
});
export const MemberView = z.object({
  id: z.string(),
  displayName: z.string(),
  role: z.string(),
  joinedAt: z.number(),
  revokedAt: z.number().nullable(),
  online: z.number(),
});
export const MembersResponse = z.object({ members: z.array(MemberView) });
export const RevokeResponse = z.object({
  revoked: z.array(z.string()),
  /** the invites the revoked members joined with, revoked too because they could still let someone in */
  invitesRevoked: z.array(z.string()),
  disconnected: z.number(),
});
/** One invite as `GET /meshes/:meshId/invites` lists it; the token itself is never shown again. */
export const InviteView = z.object({
  id: z.string(),
  role: z.string(),
  uses: z.number(),
  maxUses: z.number().nullable(),
  expiresAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
  createdAt: z.number(),
  /** member id of its creator; null when the broker's operator minted it */
  createdBy: z.string().nullable(),
  createdByName: z.string().nullable(),
  /** not revoked, not expired, uses left */
  usable: z.boolean(),
});
export const InvitesResponse = z.object({ invites: z.array(InviteView) });
export const RevokeInviteResponse = z.object({ revoked: z.literal(true) });
/** `GET /admin/meshes/:slug` (admin token): lets the operator manage a mesh it is no member of. */
export const AdminMeshResponse = z.object({
  meshId: z.string(),
  slug: z.string(),
  /** only for the quick-start mesh, whose key the broker made and keeps; other meshes' keys never reach it */
  rootKey: z.string().nullable(),
});
export const InviteInfoResponse = z.object({ meshId: z.string(), slug: z.string(), role: z.string(), expiresAt: z.number().nullable() });
/** `GET /session`: what a session bearer token from hello_ack stands for. */
export const SessionResponse = z.object({ meshId: z.string(), memberId: z.string(), presenceId: z.string(), sessionPubkey: z.string(), expiresAt: z.number() });

/** The longest a delegated session key may speak for its member (`claudemesh dashboard --for`). */
export const MAX_DELEGATION_MS = 7 * 24 * 3600_000;
/**
 * `POST /meshes/:meshId/delegations`, signed by the member: registers a session key the member signed a
 * delegation for (over delegationSigningString), so a hello from that key is accepted until `expiresAt`.
 */
export const DelegationRequest = z.object({ sessionPubkey: Base64Key, expiresAt: z.number().int(), signature: Base64Sig });
export const DelegationResponse = z.object({ id: z.string(), expiresAt: z.number() });
/** `POST /meshes/:meshId/delegations/revoke`, signed by the member: ends every delegation it gave on the mesh. */
export const RevokeDelegationsResponse = z.object({ revoked: z.number(), disconnected: z.number() });
