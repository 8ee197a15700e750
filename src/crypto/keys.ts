import nacl from "tweetnacl";
import { ed25519Sign, ed25519Verify, ed25519VerifyAsync } from "./ed25519.ts";
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

/** `verify` off the event loop (the hello's two signatures); never rejects. */
export async function verifyAsync(message: string, signature: string, publicKey: string): Promise<boolean> {
  try {
    return await ed25519VerifyAsync(utf8.encode(message), b64.decode(signature), b64.decode(publicKey));
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

// The canonical signing strings live in signing.ts, free of node:crypto, so the dashboard page can bundle them.
export { delegationSigningString, type HelloSigned, helloSigningString, requestSigningString } from "./signing.ts";
