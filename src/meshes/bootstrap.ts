import { WireError } from "../protocol/wire-error.ts";
import { ConfigError } from "../util/errors.ts";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { b64url } from "../crypto/encoding.ts";
import { generateRootKey, generateSigningKeyPair } from "../crypto/keys.ts";
import { inviteUrl } from "../protocol/invite-url.ts";
import type { Clock } from "../util/clock.ts";
import { writeSecretFile } from "../util/fs.ts";
import { newSecret } from "../util/ids.ts";
import { inviteUsable, type MeshRepo } from "./repo.ts";

export const ADMIN_TOKEN_FILE = "admin-token";
export const DEFAULT_INVITE_FILE = "default-invite.url";
const DEFAULT_OWNER_FILE = "default-mesh-owner.json";

/**
 * Reads the operator's admin token, or makes one on first start (`created`: print it). A new token is
 * written (0600) only by `save()`, once the broker listens: a first start that fails (port taken) must
 * not leave behind a token that was never shown.
 */
export function loadAdminToken(file: string): { token: string; created: boolean; save(): void } {
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    // a token this short was not made here (newSecret is 43 characters): refuse rather than trust it
    if (token.length < 32)
      throw new ConfigError(`the admin token in ${file} is shorter than 32 characters; put a long random one there (or delete it to get a new one)`);
    return { token, created: false, save() {} };
  }
  const token = newSecret();
  return { token, created: true, save: () => writeSecretFile(file, token + "\n") };
}

export interface QuickStart {
  meshId: string;
  /** the stored invite with the current public URL; null once it is used up, expired or revoked */
  invite: { url: string; expiresAt: number | null; maxUses: number | null; uses: number } | null;
}

/** The quick-start mesh's root key (the fragment of its stored invite URL), for the operator's own invites. */
export function quickStartRootKey(dataDir: string, meshId: string): string | null {
  try {
    const owner = JSON.parse(readFileSync(join(dataDir, DEFAULT_OWNER_FILE), "utf8")) as { meshId?: unknown };
    if (owner.meshId !== meshId) return null;
    return new URL(readFileSync(join(dataDir, DEFAULT_INVITE_FILE), "utf8").trim()).hash.slice(1) || null;
  } catch {
    return null;
  }
}

/**
 * Quick start: a store with no mesh gets the mesh `default`, whose keys the broker generates itself.
 * Its invite URL (root key in the fragment, good for one join) is kept 0600 in the data dir so the operator can find it again.
 * Every start rebuilds that URL from its token and key with the current public URL (a restart on
 * another port or host must not print the old address) and rewrites the file when it changed.
 */
export async function ensureDefaultMesh(repo: MeshRepo, dataDir: string, publicUrl: string, clock: Clock): Promise<QuickStart | null> {
  const file = join(dataDir, DEFAULT_INVITE_FILE);
  if ((await repo.countMeshes()) === 0) {
    const owner = generateSigningKeyPair();
    const rootKey = generateRootKey();
    let mesh: { id: string };
    try {
      ({ mesh } = await repo.createMesh({ slug: "default", ownerPubkey: owner.publicKey }));
    } catch (err) {
      // another broker node of this store, starting at the same moment, made it (and holds its keys)
      if (err instanceof WireError && err.code === "slug_taken") return null;
      throw err;
    }
    const { token, invite } = await repo.createInvite({
      meshId: mesh.id,
      role: "member",
      // One join: an invite printed to a terminal or left in a file should not admit a crowd.
      maxUses: 1,
      expiresAt: clock.now() + 30 * 24 * 3600_000,
      createdBy: null,
    });
    const url = inviteUrl(publicUrl, token, b64url.encode(rootKey));
    writeSecretFile(file, url + "\n");
    writeSecretFile(join(dataDir, DEFAULT_OWNER_FILE), JSON.stringify({ meshId: mesh.id, ...owner }, null, 2) + "\n");
    return { meshId: mesh.id, invite: { url, expiresAt: invite.expiresAt, maxUses: invite.maxUses, uses: invite.uses } };
  }
  if (!existsSync(file)) return null;
  const stored = new URL(readFileSync(file, "utf8").trim());
  const token = stored.pathname.split("/").pop() ?? "";
  const invite = await repo.inviteByToken(token);
  if (!invite) return null;
  if (!inviteUsable(invite, clock.now())) return { meshId: invite.meshId, invite: null };
  const url = inviteUrl(publicUrl, token, stored.hash.slice(1));
  if (url !== stored.href) writeSecretFile(file, url + "\n");
  return { meshId: invite.meshId, invite: { url, expiresAt: invite.expiresAt, maxUses: invite.maxUses, uses: invite.uses } };
}
