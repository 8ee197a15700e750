import { brokerPin, loadConfig } from "../client/config.ts";
import { type Auth, brokerRequest } from "../client/http.ts";
import { AdminMeshResponse } from "../meshes/api.ts";
import { InvalidArgument, NotFoundError } from "../util/errors.ts";
import { readEnv } from "../util/env.ts";

/** The flags of every command an operator may run in a mesh it has not joined. */
export const operatorArgs = {
  "admin-token": { type: "string", description: "Act as the broker's operator (or CLAUDEMESH_ADMIN_TOKEN): works in every mesh of that broker" },
  broker: { type: "string", description: "Broker URL, with --admin-token, for a mesh you have not joined" },
} as const;

export interface MeshTarget {
  slug: string;
  meshId: string;
  brokerUrl: string;
  /** null when neither your membership nor the broker has it (only the quick-start mesh's is at the broker) */
  rootKey: string | null;
  auth: Auth;
}

/**
 * The mesh a management command acts on, and as whom: your membership, signed with your member key; or,
 * with an admin token, the operator, who finds the mesh by its slug on the broker.
 */
export async function meshTarget(slug: string, args: { "admin-token"?: string; broker?: string }): Promise<MeshTarget> {
  const token = args["admin-token"] || readEnv().CLAUDEMESH_ADMIN_TOKEN || undefined;
  const brokerArg = args.broker === undefined ? undefined : brokerPin(args.broker);
  const { meshes } = loadConfig();
  const member = meshes.find((m) => (m.slug === slug || m.meshId === slug) && (brokerArg === undefined || m.brokerUrl === brokerArg));
  if (!token) {
    if (member)
      return { slug: member.slug, meshId: member.meshId, brokerUrl: member.brokerUrl, rootKey: member.rootKey, auth: { kind: "member", mesh: member } };
    const joined = meshes.map((m) => m.slug).join(", ") || "none";
    throw new NotFoundError(`you have not joined a mesh named "${slug}" (joined: ${joined}); the broker's operator can pass --admin-token and --broker`);
  }
  const brokerUrl = brokerArg ?? member?.brokerUrl;
  if (!brokerUrl) throw new InvalidArgument(`you have not joined "${slug}", so say which broker it is on with --broker URL`);
  const auth: Auth = { kind: "admin", token };
  const found = await brokerRequest(brokerUrl, "GET", `/admin/meshes/${encodeURIComponent(slug)}`, AdminMeshResponse, { auth });
  return { slug: found.slug, meshId: found.meshId, brokerUrl, rootKey: found.rootKey ?? member?.rootKey ?? null, auth };
}
