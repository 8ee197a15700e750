import type { FeatureHost, Routes } from "../broker/host.ts";
import { json } from "../broker/http.ts";
import { WireError } from "../protocol/wire-error.ts";
import type { UsageResponse } from "./api.ts";
import type { MessageRetention } from "./retention.ts";

/** Usage against the message quotas: for the operator (admin token) and the mesh's owners and admins. */
export function usageRoutes(host: FeatureHost, retention: MessageRetention): Routes {
  // Membership and request signatures are the meshes feature's; this route reads them through the host.
  const meshes = host.auth;
  return {
    "/meshes/:meshId/usage": {
      GET: async (req) => {
        const meshId = req.params.meshId ?? "";
        // ids are short printable ASCII; anything else (NUL, which Postgres refuses) can match no mesh
        if (!/^[\x21-\x7e]{1,128}$/.test(meshId)) throw new WireError("invalid_argument", "invalid mesh id in the path");
        // authenticated before anything reads the store for this mesh
        if (!meshes.isAdmin(req)) {
          const member = await meshes.signedMember(req, "");
          if (!member) throw new WireError("unauthorized", "sign the request with your member key or pass the admin token", 401);
          if (member.meshId !== meshId) throw new WireError("wrong_mesh", "you are not a member of this mesh", 403);
          if (member.role !== "owner" && member.role !== "admin") throw new WireError("forbidden", "only mesh owners and admins may see its usage", 403);
        }
        const mesh = await meshes.mesh(meshId);
        if (!mesh) throw new WireError("unknown_mesh", "no such mesh", 404);
        const usage = await retention.usage(meshId);
        const members = await meshes.members(meshId);
        const online = new Map<string, number>();
        for (const p of host.peers.peersOf(meshId)) online.set(p.memberId, (online.get(p.memberId) ?? 0) + 1);
        const of = (memberId: string) => {
          const u = usage.find((x) => x.memberId === memberId);
          return { messages: u?.messages ?? 0, bytes: u?.bytes ?? 0 };
        };
        const l = host.limits;
        const body: UsageResponse = {
          meshId,
          slug: mesh.slug,
          stored: of(""),
          limits: {
            perMember: { messages: l.maxQueuedMessagesPerMember, bytes: l.maxQueuedBytesPerMember },
            perMesh: { messages: l.maxQueuedMessagesPerMesh, bytes: l.maxQueuedBytesPerMesh },
          },
          members: members.map((m) => ({ memberId: m.id, displayName: m.displayName, stored: of(m.id), online: online.get(m.id) ?? 0 })),
        };
        return json(body);
      },
    },
  };
}
