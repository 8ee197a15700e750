import { resolve } from "node:path";
import { InviteInfoResponse, JoinResponse } from "../meshes/api.ts";
import { generateSigningKeyPair } from "../crypto/keys.ts";
import { HealthResponse } from "../nodes/api.ts";
import { BrokerUrl } from "../protocol/common.ts";
import { InvalidArgument, LocalError } from "../util/errors.ts";
import { brokerList, loadConfig, type MeshConfig, saveConfig, upsertMesh } from "./config.ts";
import { brokerRequest } from "./http.ts";
import { parseInviteUrl } from "./invite.ts";

/**
 * Enrolls with the broker and stores the membership. Joining a mesh twice reuses the stored member key,
 * which the broker recognises, so no second member is created and no invite use is spent.
 */
export async function joinMesh(url: string, displayName: string, opts: { caFile?: string } = {}): Promise<{ mesh: MeshConfig; created: boolean }> {
  const invite = parseInviteUrl(url);
  // kept as an absolute path: `claudemesh mcp` runs in whatever directory Claude Code starts it
  const caFile = opts.caFile === undefined ? undefined : resolve(opts.caFile);
  // Without the key the membership would half work: direct messages yes, group messages never.
  if (!invite.rootKey) {
    throw new InvalidArgument(
      "this invite URL has lost its key: the part after # is the mesh key. Copy the whole URL and put it in quotes: claudemesh join 'https://…/join/…#…'",
    );
  }
  const info = await brokerRequest(invite.brokerUrl, "GET", `/join/${invite.token}/info`, InviteInfoResponse, { caFile });
  const config = loadConfig();
  const existing = config.meshes.find((m) => m.meshId === info.meshId && m.brokerUrl === invite.brokerUrl);
  const clash = config.meshes.find((m) => m.slug === info.slug && m !== existing);
  if (clash) throw new LocalError("conflict", `you are already in another mesh named "${info.slug}" (${clash.brokerUrl}); leave it first`);
  const keys = existing ? { publicKey: existing.pubkey, secretKey: existing.secretKey } : generateSigningKeyPair();
  const res = await brokerRequest(invite.brokerUrl, "POST", "/join", JoinResponse, {
    body: { token: invite.token, pubkey: keys.publicKey, displayName },
    caFile,
  });
  const mesh: MeshConfig = {
    slug: res.slug,
    meshId: res.meshId,
    brokerUrl: invite.brokerUrl,
    brokers: brokerList(invite.brokerUrl, await liveNodeUrls(invite.brokerUrl, caFile)),
    memberId: res.memberId,
    displayName: res.displayName,
    role: res.role,
    pubkey: keys.publicKey,
    secretKey: keys.secretKey,
    rootKey: invite.rootKey,
    joinedAt: existing?.joinedAt ?? Date.now(),
    ...((caFile ?? existing?.caFile) ? { caFile: caFile ?? existing?.caFile } : {}),
  };
  saveConfig(upsertMesh(config, mesh));
  return { mesh, created: res.created };
}

/**
 * Every live broker node's public URL, for the failover list. Best effort: the membership is made
 * already, and a session learns the list from its first hello_ack anyway.
 */
async function liveNodeUrls(brokerUrl: string, caFile: string | undefined): Promise<string[]> {
  try {
    const health = await brokerRequest(brokerUrl, "GET", "/healthz", HealthResponse, { caFile, timeoutMs: 5000 });
    return health.nodes.map((n) => n.url).filter((u) => BrokerUrl.safeParse(u).success);
  } catch {
    return [];
  }
}
