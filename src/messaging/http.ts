import type { FeatureHost, Routes } from "../broker/host.ts";
import { json, meshAdminRequest } from "../broker/http.ts";
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
        const meshId = await meshAdminRequest(meshes, req, "see its usage");
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
