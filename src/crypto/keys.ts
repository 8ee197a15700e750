import nacl from "tweetnacl";
import { ed25519Sign, ed25519Verify } from "./ed25519.ts";
import { b64, utf8 } from "./encoding.ts";

export interface KeyPair {
  /** ed25519 public key, base64 (32 bytes) */
  publicKey: string;
  /** ed25519 secret key, base64 (64 bytes) */
  secretKey: string;
}

export function generateSigningKeyPair(): KeyPair {
  const kp = nacl.sign.keyPair();
  return { publicKey: b64.encode(kp.publicKey), secretKey: b64.encode(kp.secretKey) };
}

export function sign(message: string | Uint8Array, secretKey: string): string {
  const bytes = typeof message === "string" ? utf8.encode(message) : message;
  return b64.encode(ed25519Sign(bytes, b64.decode(secretKey)));
}

/** Never throws: malformed keys or signatures simply fail verification. */
export function verify(message: string | Uint8Array, signature: string, publicKey: string): boolean {
  try {
    const bytes = typeof message === "string" ? utf8.encode(message) : message;
    const sig = b64.decode(signature);
    const pk = b64.decode(publicKey);
    return ed25519Verify(bytes, sig, pk);
  } catch {
    return false;
  }
}

/** 32 random bytes: the mesh root key, generated client-side and never sent to the broker. */
export function generateRootKey(): Uint8Array {
  return nacl.randomBytes(32);
}

/** A fresh 32-byte challenge, base64: the broker sends one on every WebSocket open. */
export function newChallenge(): string {
  return b64.encode(nacl.randomBytes(32));
}

/** Everything a hello declares, as the broker parsed it; the signature covers every field. */
export interface HelloSigned {
  challenge: string;
  meshId: string;
  memberId: string;
  pubkey: string;
  sessionPubkey: string;
  timestamp: number;
  displayName?: string;
  role?: string;
  groups?: { name: string; role: string | null }[];
  status?: string;
  sessionId?: string;
  pid?: number;
  cwd?: string;
}

/**
 * The canonical bytes a `hello` signs (docs/PROTOCOL.md): the UTF-8 of a JSON array in a fixed order, so
 * no field can bleed into another. Absent attributes are `null`; groups are deduplicated (last wins, as
 * the broker applies them) and sorted by name in code-unit order. Both the member key and the session key
 * sign exactly this.
 */
export function helloSigningString(f: HelloSigned): string {
  const groups = f.groups === undefined ? null : [...new Map(f.groups.map((g) => [g.name, g.role]))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    "claudemesh-hello-v2",
    f.challenge,
    f.meshId,
    f.memberId,
    f.pubkey,
    f.sessionPubkey,
    f.timestamp,
    f.displayName ?? null,
    f.role ?? null,
    groups,
    f.status ?? null,
    f.sessionId ?? null,
    f.pid ?? null,
    f.cwd ?? null,
  ]);
}

/** The canonical bytes a member-signed HTTP request signs (docs/PROTOCOL.md); the nonce makes each one single-use. */
export function requestSigningString(f: { method: string; path: string; timestamp: number; nonce: string; bodySha256: string }): string {
  return ["claudemesh-request-v2", f.method.toUpperCase(), f.path, String(f.timestamp), f.nonce, f.bodySha256].join("\n");
}
