import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { b64url } from "../crypto/encoding.ts";
import { generateRootKey, generateSigningKeyPair } from "../crypto/keys.ts";
import { inviteUrl } from "../protocol/invite-url.ts";
import { writeSecretFile } from "../util/fs.ts";
import { newSecret } from "../util/ids.ts";
import type { MeshRepo } from "./repo.ts";

export const ADMIN_TOKEN_FILE = "admin-token";
export const DEFAULT_INVITE_FILE = "default-invite.url";

/** Reads the operator's admin token, creating it (0600) on first start. `created` says whether to print it. */
export function loadAdminToken(dataDir: string): { token: string; created: boolean } {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) return { token: readFileSync(file, "utf8").trim(), created: false };
  const token = newSecret();
  writeSecretFile(file, token + "\n");
  return { token, created: true };
}

/**
 * Quick start: a store with no mesh gets the mesh `default`, whose keys the broker generates itself.
 * Its invite URL (root key in the fragment) is kept 0600 in the data dir so the operator can find it again.
 */
export async function ensureDefaultMesh(repo: MeshRepo, dataDir: string, publicUrl: string): Promise<string | null> {
  const file = join(dataDir, DEFAULT_INVITE_FILE);
  if ((await repo.countMeshes()) === 0) {
    const owner = generateSigningKeyPair();
    const rootKey = generateRootKey();
    const { mesh } = await repo.createMesh({ slug: "default", ownerPubkey: owner.publicKey });
    const { token } = await repo.createInvite({
      meshId: mesh.id,
      role: "member",
      maxUses: null,
      expiresAt: Date.now() + 30 * 24 * 3600_000,
      createdBy: null,
    });
    const url = inviteUrl(publicUrl, token, b64url.encode(rootKey));
    writeSecretFile(file, url + "\n");
    writeSecretFile(join(dataDir, "default-mesh-owner.json"), JSON.stringify({ meshId: mesh.id, ...owner }, null, 2) + "\n");
    return url;
  }
  if (!existsSync(file)) return null;
  const url = readFileSync(file, "utf8").trim();
  const token = new URL(url).pathname.split("/").pop() ?? "";
  const invite = await repo.inviteByToken(token);
  const usable = invite && invite.revokedAt === null && (invite.expiresAt === null || invite.expiresAt > Date.now());
  return usable ? url : null;
}
