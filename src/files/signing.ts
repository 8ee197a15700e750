import { timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeSecretFile } from "../util/fs.ts";
import { newSecret } from "../util/ids.ts";

export const FILES_KEY_FILE = "files.key";

/** The broker's key for download URLs and CLI upload tokens, created 0600 in the data dir on first start. */
export function loadFilesKey(dataDir: string): string {
  const file = join(dataDir, FILES_KEY_FILE);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = newSecret();
  writeSecretFile(file, key + "\n");
  return key;
}

/** HMAC-SHA256 with the broker's key, base64url; `purpose` keeps a URL signature from passing as a token. */
export class Signer {
  constructor(private readonly key: string) {}

  mac(purpose: string, parts: string[]): string {
    return new Bun.CryptoHasher("sha256", this.key).update([purpose, ...parts].join("\n")).digest("base64url");
  }

  verify(purpose: string, parts: string[], sig: string): boolean {
    const want = Buffer.from(this.mac(purpose, parts));
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}

/** Who a download URL was issued to: recorded in `file_access` when the download completes. */
export interface Downloader {
  meshId: string;
  memberId: string;
  sessionPubkey: string | null;
  name: string;
}

const urlParts = (fileId: string, exp: number, d: Downloader) => [d.meshId, fileId, String(exp), d.memberId, d.sessionPubkey ?? "", d.name];

export function downloadPath(signer: Signer, fileId: string, exp: number, d: Downloader): string {
  const q = new URLSearchParams({ mesh: d.meshId, exp: String(exp), member: d.memberId, session: d.sessionPubkey ?? "", name: d.name });
  q.set("sig", signer.mac("download", urlParts(fileId, exp, d)));
  return `/files/${encodeURIComponent(fileId)}/content?${q}`;
}

/** The downloader a URL names, or null when it was forged or altered. Expiry is the caller's check. */
export function verifyDownload(signer: Signer, fileId: string, q: URLSearchParams): { exp: number; d: Downloader } | null {
  const exp = Number(q.get("exp"));
  const d: Downloader = { meshId: q.get("mesh") ?? "", memberId: q.get("member") ?? "", sessionPubkey: q.get("session") || null, name: q.get("name") ?? "" };
  const sig = q.get("sig");
  if (!sig || !Number.isSafeInteger(exp) || !d.meshId || !d.memberId) return null;
  return signer.verify("download", urlParts(fileId, exp, d), sig) ? { exp, d } : null;
}

const TOKEN_PREFIX = "cmf1";

/** A short-lived bearer token for the file routes, for a CLI that holds a member key but no session. */
export function issueToken(signer: Signer, meshId: string, memberId: string, exp: number): string {
  const body = Buffer.from(JSON.stringify({ mesh: meshId, member: memberId, exp })).toString("base64url");
  return `${TOKEN_PREFIX}.${body}.${signer.mac("token", [body])}`;
}

export function verifyToken(signer: Signer, token: string, now: number): { meshId: string; memberId: string } | null {
  const [prefix, body, sig, ...rest] = token.split(".");
  if (prefix !== TOKEN_PREFIX || !body || !sig || rest.length > 0 || !signer.verify("token", [body], sig)) return null;
  try {
    const v = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as { mesh?: unknown; member?: unknown; exp?: unknown };
    if (typeof v.mesh !== "string" || typeof v.member !== "string" || typeof v.exp !== "number" || v.exp <= now) return null;
    return { meshId: v.mesh, memberId: v.member };
  } catch {
    return null;
  }
}
