import type { z } from "zod";
import type { FeatureHost, Routes } from "../broker/host.ts";
import { isAdminToken, parseJson, readText, reply } from "../broker/http.ts";
import { parseWire } from "../protocol/codec.ts";
import { WireError } from "../protocol/wire-error.ts";
import {
  AdminMeshResponse,
  CreateInviteRequest,
  CreateMeshRequest,
  CreateMeshResponse,
  InviteInfoResponse,
  InviteResponse,
  InvitesResponse,
  JoinRequest,
  JoinResponse,
  MembersResponse,
  RevokeInviteResponse,
  RevokeResponse,
} from "./api.ts";
import type { Member } from "./model.ts";
import { inviteUsable, type MeshRepo } from "./repo.ts";
import { type Actor, inviteRefusal, revokeRefusal } from "./roles.ts";
import { textProblem } from "../util/text.ts";
import { signedMember } from "./signed.ts";

export interface MeshRoutesDeps {
  host: FeatureHost;
  repo: MeshRepo;
  adminToken: string;
  /** the root key of the quick-start mesh, which the broker generated and keeps in its data dir */
  quickStartRootKey?: (meshId: string) => string | null;
}

type Req = Request & { params: Record<string, string> };

/** Admin and join bodies are tiny; this cap keeps a hostile one from costing memory. */
const MAX_BODY = 64 * 1024;

export function parse<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  const parsed = parseWire(schema, parseJson(text));
  if (!parsed.ok) throw new WireError("invalid_frame", `invalid request: ${parsed.issues}`);
  return parsed.data;
}

/**
 * A route parameter as Bun decoded it (once; decoding again would turn `50%25` into a URIError). Ids,
 * names and tokens are short; NUL or a lone surrogate could never match a row and Postgres refuses NUL.
 */
export function param(req: Req, name: string): string {
  const v = req.params[name] ?? "";
  if (v.length === 0 || v.length > 256 || textProblem(v) !== null) throw new WireError("invalid_argument", `invalid ${name} in the path`);
  return v;
}

type Signed = (req: Request, bodyText: string) => Promise<Member | null>;

/** The operator (admin token) or a member of this very mesh, proven by a signature over the body. */
async function actorOf(req: Request, text: string, signed: Signed, adminToken: string, meshId: string): Promise<Actor> {
  if (isAdminToken(req, adminToken)) return { kind: "operator" };
  const member = await signed(req, text);
  if (!member) throw new WireError("unauthorized", "sign the request with your member key or pass the admin token", 401);
  if (member.meshId !== meshId) throw new WireError("wrong_mesh", "you are not a member of this mesh", 403);
  return { kind: "member", member };
}

function allow(refusal: string | null): void {
  if (refusal !== null) throw new WireError("forbidden", refusal, 403);
}

export function meshRoutes({ host, repo, adminToken, quickStartRootKey }: MeshRoutesDeps): Routes {
  const maxBody = Math.min(MAX_BODY, host.limits.maxFrameBytes);
  const signed: Signed = (req, text) => signedMember(req, text, repo, host.limits.skewMs, host.clock);
  return {
    "/join": {
      POST: async (req: Request) => {
        const value = parse(await readText(req, maxBody), JoinRequest);
        const { member, mesh, created } = await repo.redeemInvite(value);
        return reply(JoinResponse, { meshId: mesh.id, slug: mesh.slug, memberId: member.id, role: member.role, displayName: member.displayName, created });
      },
    },
    "/join/:token": {
      GET: () =>
        new Response("This is a claudemesh invite. Join with:\n\n  claudemesh join <this URL, including the part after #>\n", {
          headers: { "content-type": "text/plain; charset=utf-8" },
        }),
    },
    "/join/:token/info": {
      GET: async (req: Req) => {
        const invite = await repo.inviteByToken(param(req, "token"));
        if (!invite) throw new WireError("invite_not_found", "this invite does not exist", 404);
        const mesh = await repo.meshById(invite.meshId);
        if (!mesh) throw new WireError("invite_not_found", "this invite's mesh no longer exists", 404);
        return reply(InviteInfoResponse, { meshId: mesh.id, slug: mesh.slug, role: invite.role, expiresAt: invite.expiresAt });
      },
    },
    "/admin/meshes": {
      POST: async (req: Request) => {
        if (!isAdminToken(req, adminToken)) throw new WireError("unauthorized", "creating a mesh needs the broker's admin token", 401);
        const value = parse(await readText(req, maxBody), CreateMeshRequest);
        const { mesh, owner } = await repo.createMesh(value);
        // the request requires ownerName, so the owner always exists
        if (!owner) throw new Error("mesh created without its owner");
        const { invite, token } = await repo.createInvite({
          meshId: mesh.id,
          role: "member",
          maxUses: value.inviteMaxUses,
          expiresAt: host.clock.now() + 7 * 24 * 3600_000,
          createdBy: owner.id,
        });
        return reply(CreateMeshResponse, {
          meshId: mesh.id,
          slug: mesh.slug,
          memberId: owner.id,
          invite: { inviteId: invite.id, token, expiresAt: invite.expiresAt, role: invite.role, maxUses: invite.maxUses },
        });
      },
    },
    "/admin/meshes/:slug": {
      GET: async (req: Req) => {
        if (!isAdminToken(req, adminToken)) throw new WireError("unauthorized", "looking a mesh up by name needs the broker's admin token", 401);
        const slug = req.params.slug ?? "";
        // No stored slug is that long or holds NUL (which Postgres refuses): no such mesh, without a query.
        const mesh = slug.length > 256 || textProblem(slug) !== null ? null : await repo.meshBySlug(slug);
        if (!mesh) throw new WireError("unknown_mesh", `this broker has no mesh named "${slug}"`, 404);
        return reply(AdminMeshResponse, { meshId: mesh.id, slug: mesh.slug, rootKey: quickStartRootKey?.(mesh.id) ?? null });
      },
    },
    "/meshes/:meshId/invites": {
      POST: async (req: Req) => {
        const meshId = param(req, "meshId");
        const text = await readText(req, maxBody);
        const actor = await actorOf(req, text, signed, adminToken, meshId);
        const value = parse(text, CreateInviteRequest);
        allow(inviteRefusal(actor, value.role));
        if (!(await repo.meshById(meshId))) throw new WireError("unknown_mesh", "no such mesh", 404);
        const { invite, token } = await repo.createInvite({
          meshId,
          role: value.role,
          maxUses: value.maxUses,
          expiresAt: value.expiresInSeconds === null ? null : host.clock.now() + value.expiresInSeconds * 1000,
          createdBy: actor.kind === "member" ? actor.member.id : null,
        });
        return reply(InviteResponse, { inviteId: invite.id, token, expiresAt: invite.expiresAt, role: invite.role, maxUses: invite.maxUses });
      },
      GET: async (req: Req) => {
        const meshId = param(req, "meshId");
        const actor = await actorOf(req, "", signed, adminToken, meshId);
        allow(inviteRefusal(actor, "member"));
        const names = new Map((await repo.listMembers(meshId)).map((m) => [m.id, m.displayName]));
        const now = host.clock.now();
        const invites = (await repo.listInvites(meshId)).map((i) => ({
          id: i.id,
          role: i.role,
          uses: i.uses,
          maxUses: i.maxUses,
          expiresAt: i.expiresAt,
          revokedAt: i.revokedAt,
          createdAt: i.createdAt,
          createdBy: i.createdBy,
          createdByName: i.createdBy === null ? null : (names.get(i.createdBy) ?? null),
          usable: inviteUsable(i, now),
        }));
        return reply(InvitesResponse, { invites });
      },
    },
    "/meshes/:meshId/invites/:inviteId/revoke": {
      POST: async (req: Req) => {
        const meshId = param(req, "meshId");
        const actor = await actorOf(req, await readText(req, maxBody), signed, adminToken, meshId);
        const invite = await repo.inviteById(meshId, param(req, "inviteId"));
        if (!invite || invite.revokedAt !== null) throw new WireError("not_found", "no such active invite", 404);
        allow(inviteRefusal(actor, invite.role));
        if (!(await repo.revokeInvite(meshId, invite.id))) throw new WireError("not_found", "no such active invite", 404);
        return reply(RevokeInviteResponse, { revoked: true });
      },
    },
    "/meshes/:meshId/members": {
      GET: async (req: Req) => {
        const meshId = param(req, "meshId");
        await actorOf(req, "", signed, adminToken, meshId);
        const online = new Map<string, number>();
        for (const p of host.peers.peersOf(meshId)) online.set(p.memberId, (online.get(p.memberId) ?? 0) + 1);
        const members = (await repo.listMembers(meshId)).map((m) => ({
          id: m.id,
          displayName: m.displayName,
          role: m.role,
          joinedAt: m.joinedAt,
          revokedAt: m.revokedAt,
          online: online.get(m.id) ?? 0,
        }));
        return reply(MembersResponse, { members });
      },
    },
    "/meshes/:meshId/members/:member/revoke": {
      POST: async (req: Req) => {
        const meshId = param(req, "meshId");
        const actor = await actorOf(req, await readText(req, maxBody), signed, adminToken, meshId);
        const targets = await repo.activeMembersByIdOrName(meshId, param(req, "member"));
        if (targets.length === 0) throw new WireError("not_found", "no such active member in this mesh", 404);
        // All or nothing: one target the actor may not revoke refuses the whole request.
        for (const t of targets) allow(revokeRefusal(actor, t));
        const { revoked, invitesRevoked } = await repo.revokeMembers(meshId, targets);
        if (revoked.length === 0) throw new WireError("not_found", "no such active member in this mesh", 404);
        let disconnected = 0;
        for (const id of revoked) disconnected += await host.peers.disconnectMember(id);
        return reply(RevokeResponse, { revoked, invitesRevoked, disconnected });
      },
    },
  };
}
