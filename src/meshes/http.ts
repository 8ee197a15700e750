import type { z } from "zod";
import type { FeatureHost, Routes } from "../broker/host.ts";
import { isAdminToken, readJson, reply } from "../broker/http.ts";
import { describeIssues } from "../protocol/codec.ts";
import { WireError } from "../protocol/wire-error.ts";
import {
  AdminMeshResponse,
  CreateInviteRequest,
  CreateMeshRequest,
  CreateMeshResponse,
  InviteInfoResponse,
  InviteResponse,
  JoinRequest,
  JoinResponse,
  MembersResponse,
  RevokeInviteResponse,
  RevokeResponse,
} from "./api.ts";
import type { Member } from "./model.ts";
import type { MeshRepo } from "./repo.ts";
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

async function body<S extends z.ZodType>(req: Request, schema: S, maxBytes: number): Promise<{ value: z.infer<S>; text: string }> {
  const { value, text } = await readJson(req, maxBytes);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new WireError("invalid_frame", `invalid request: ${describeIssues(parsed.error)}`);
  return { value: parsed.data, text };
}

/** Admin token (the operator) or a signed request from an owner/admin member of this very mesh. */
async function requireMeshAdmin(req: Request, text: string, signed: Signed, adminToken: string, meshId: string): Promise<Member | null> {
  if (isAdminToken(req, adminToken)) return null;
  const member = await signed(req, text);
  if (!member) throw new WireError("unauthorized", "sign the request with your member key or pass the admin token", 401);
  if (member.meshId !== meshId) throw new WireError("wrong_mesh", "you are not a member of this mesh", 403);
  if (member.role !== "owner" && member.role !== "admin") throw new WireError("forbidden", "only mesh owners and admins may do this", 403);
  return member;
}

type Signed = (req: Request, bodyText: string) => Promise<Member | null>;

export function meshRoutes({ host, repo, adminToken, quickStartRootKey }: MeshRoutesDeps): Routes {
  const maxBody = Math.min(MAX_BODY, host.limits.maxFrameBytes);
  const signed: Signed = (req, text) => signedMember(req, text, repo, host.limits.skewMs, host.clock);
  return {
    "/join": {
      POST: async (req: Request) => {
        const { value } = await body(req, JoinRequest, maxBody);
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
        const invite = await repo.inviteByToken(req.params.token ?? "");
        if (!invite) throw new WireError("invite_not_found", "this invite does not exist", 404);
        const mesh = await repo.meshById(invite.meshId);
        if (!mesh) throw new WireError("invite_not_found", "this invite's mesh no longer exists", 404);
        return reply(InviteInfoResponse, { meshId: mesh.id, slug: mesh.slug, role: invite.role, expiresAt: invite.expiresAt });
      },
    },
    "/admin/meshes": {
      POST: async (req: Request) => {
        if (!isAdminToken(req, adminToken)) throw new WireError("unauthorized", "creating a mesh needs the broker's admin token", 401);
        const { value } = await body(req, CreateMeshRequest, maxBody);
        const { mesh, owner } = await repo.createMesh(value);
        // the request requires ownerName, so the owner always exists
        if (!owner) throw new Error("mesh created without its owner");
        const { invite, token } = await repo.createInvite({
          meshId: mesh.id,
          role: "member",
          maxUses: null,
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
        const mesh = await repo.meshBySlug(req.params.slug ?? "");
        if (!mesh) throw new WireError("unknown_mesh", `this broker has no mesh named "${req.params.slug ?? ""}"`, 404);
        return reply(AdminMeshResponse, { meshId: mesh.id, slug: mesh.slug, rootKey: quickStartRootKey?.(mesh.id) ?? null });
      },
    },
    "/meshes/:meshId/invites": {
      POST: async (req: Req) => {
        const meshId = req.params.meshId ?? "";
        const { value, text } = await body(req, CreateInviteRequest, maxBody);
        const by = await requireMeshAdmin(req, text, signed, adminToken, meshId);
        if (!(await repo.meshById(meshId))) throw new WireError("unknown_mesh", "no such mesh", 404);
        const { invite, token } = await repo.createInvite({
          meshId,
          role: value.role,
          maxUses: value.maxUses,
          expiresAt: value.expiresInSeconds === null ? null : host.clock.now() + value.expiresInSeconds * 1000,
          createdBy: by?.id ?? null,
        });
        return reply(InviteResponse, { inviteId: invite.id, token, expiresAt: invite.expiresAt, role: invite.role, maxUses: invite.maxUses });
      },
    },
    "/meshes/:meshId/invites/:inviteId/revoke": {
      POST: async (req: Req) => {
        const meshId = req.params.meshId ?? "";
        const { text } = await readJson(req, maxBody);
        await requireMeshAdmin(req, text, signed, adminToken, meshId);
        if (!(await repo.revokeInvite(meshId, req.params.inviteId ?? ""))) throw new WireError("not_found", "no such active invite", 404);
        return reply(RevokeInviteResponse, { revoked: true });
      },
    },
    "/meshes/:meshId/members": {
      GET: async (req: Req) => {
        const meshId = req.params.meshId ?? "";
        if (!isAdminToken(req, adminToken)) {
          const member = await signed(req, "");
          if (!member) throw new WireError("unauthorized", "sign the request with your member key", 401);
          if (member.meshId !== meshId) throw new WireError("wrong_mesh", "you are not a member of this mesh", 403);
        }
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
        const meshId = req.params.meshId ?? "";
        const { text } = await readJson(req, maxBody);
        const target = decodeURIComponent(req.params.member ?? "");
        // A member may always revoke itself (`claudemesh leave`); anyone else needs admin rights.
        const self = isAdminToken(req, adminToken) ? null : await signed(req, text);
        if (!self || self.id !== target || self.meshId !== meshId) await requireMeshAdmin(req, text, signed, adminToken, meshId);
        const revoked = await repo.revokeMember(meshId, target);
        if (revoked.length === 0) throw new WireError("not_found", "no such active member in this mesh", 404);
        let disconnected = 0;
        for (const m of revoked) disconnected += await host.peers.disconnectMember(m.id);
        return reply(RevokeResponse, { revoked: revoked.map((m) => m.id), disconnected });
      },
    },
  };
}
