import type { Member, MemberRole } from "./model.ts";

/** Who is asking: the broker's operator (admin token) or a member of the mesh, proven by its signature. */
export type Actor = { kind: "operator" } | { kind: "member"; member: Member };

/**
 * Why `actor` may not revoke `target`, or null when it may. Anyone may revoke itself (`leave`); nobody
 * else, not even the operator, may revoke an owner; only an owner (or the operator) may revoke an admin;
 * admins may revoke members.
 */
export function revokeRefusal(actor: Actor, target: Member): string | null {
  if (actor.kind === "member" && actor.member.id === target.id) return null;
  if (target.role === "owner") return "nobody but the owner itself can revoke the mesh owner";
  if (actor.kind === "operator") return null;
  const role = actor.member.role;
  if (role === "owner") return null;
  if (target.role === "admin") return "only the mesh owner may revoke an admin";
  return role === "admin" ? null : "only mesh owners and admins may revoke other members";
}

/** Why `actor` may not mint (or list and revoke) invites of `role`, or null when it may. */
export function inviteRefusal(actor: Actor, role: MemberRole): string | null {
  if (actor.kind === "operator" || actor.member.role === "owner") return null;
  if (actor.member.role !== "admin") return "only mesh owners and admins may manage invites";
  return role === "member" ? null : "only the mesh owner may manage admin invites";
}
