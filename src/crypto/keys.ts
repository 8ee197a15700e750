import nacl from "tweetnacl";
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
  return b64.encode(nacl.sign.detached(bytes, b64.decode(secretKey)));
}

/** Never throws: malformed keys or signatures simply fail verification. */
export function verify(message: string | Uint8Array, signature: string, publicKey: string): boolean {
  try {
    const bytes = typeof message === "string" ? utf8.encode(message) : message;
    const sig = b64.decode(signature);
    const pk = b64.decode(publicKey);
    if (sig.length !== nacl.sign.signatureLength || pk.length !== nacl.sign.publicKeyLength) return false;
    return nacl.sign.detached.verify(bytes, sig, pk);
  } catch {
    return false;
  }
}

/** 32 random bytes: the mesh root key, generated client-side and never sent to the broker. */
export function generateRootKey(): Uint8Array {
  return nacl.randomBytes(32);
}

/** The canonical bytes a `hello` signs; both the member key and the session key sign exactly this. */
export function helloSigningString(f: {
  meshId: string;
  memberId: string;
  pubkey: string;
  sessionPubkey: string;
  timestamp: number;
}): string {
  return ["claudemesh-hello-v1", f.meshId, f.memberId, f.pubkey, f.sessionPubkey, String(f.timestamp)].join("\n");
}

/** The canonical bytes a member-signed HTTP request signs. */
export function requestSigningString(f: { method: string; path: string; timestamp: number; bodySha256: string }): string {
  return ["claudemesh-request-v1", f.method.toUpperCase(), f.path, String(f.timestamp), f.bodySha256].join("\n");
}
