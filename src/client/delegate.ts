import { delegationSigningString, generateSigningKeyPair, type KeyPair, sign } from "../crypto/keys.ts";
import { DelegationRequest, DelegationResponse, RevokeDelegationsResponse } from "../meshes/api.ts";
import type { MeshConfig } from "./config.ts";
import { brokerRequest } from "./http.ts";

export interface DelegatedSession {
  /** the fresh session key the delegation lets speak for the member; its secret goes to the browser only */
  session: KeyPair;
  expiresAt: number;
  /** the member's signature over delegationSigningString */
  signature: string;
}

type Mesh = Pick<MeshConfig, "brokerUrl" | "meshId" | "memberId" | "secretKey" | "caFile">;

/** Makes a session key, signs a delegation for it with the member key and registers it with the broker. */
export async function delegateSession(mesh: Mesh, forMs: number, now = Date.now()): Promise<DelegatedSession> {
  const session = generateSigningKeyPair();
  const expiresAt = now + forMs;
  const signature = sign(
    delegationSigningString({ meshId: mesh.meshId, memberId: mesh.memberId, sessionPubkey: session.publicKey, expiresAt }),
    mesh.secretKey,
  );
  const body = DelegationRequest.parse({ sessionPubkey: session.publicKey, expiresAt, signature });
  await brokerRequest(mesh.brokerUrl, "POST", `/meshes/${encodeURIComponent(mesh.meshId)}/delegations`, DelegationResponse, {
    body,
    auth: { kind: "member", mesh },
  });
  return { session, expiresAt, signature };
}

/** Ends every delegation this member gave on the mesh; live delegated sessions are disconnected. */
export function revokeDelegations(mesh: Mesh) {
  return brokerRequest(mesh.brokerUrl, "POST", `/meshes/${encodeURIComponent(mesh.meshId)}/delegations/revoke`, RevokeDelegationsResponse, {
    body: {},
    auth: { kind: "member", mesh },
  });
}
