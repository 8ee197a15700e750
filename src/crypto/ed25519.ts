import { createPrivateKey, createPublicKey, type KeyObject, sign as nodeSign, verify as nodeVerify } from "node:crypto";

// Raw Ed25519 keys wrapped in the fixed DER headers node:crypto imports (RFC 8410): SPKI for a 32-byte
// public key, PKCS#8 for a 32-byte seed. The runtime's native Ed25519 verifies in ~0.06 ms where
// tweetnacl takes ~6 ms, which capped hellos (two verifications each) at ~70 a second.
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

// The broker verifies the same member and session keys again and again (every hello, every signed
// request); importing a key costs about as much as verifying, so recent public keys are kept. Secret
// keys are imported per signature and never cached.
const MAX_CACHED = 4096;
const publicKeys = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString("hex");
  let k = publicKeys.get(id);
  if (!k) {
    k = createPublicKey({ key: Buffer.from(concat(SPKI_PREFIX, publicKey)), format: "der", type: "spki" });
    if (publicKeys.size >= MAX_CACHED) publicKeys.delete(publicKeys.keys().next().value as string);
    publicKeys.set(id, k);
  }
  return k;
}

/** Detached Ed25519 signature (64 bytes) with a tweetnacl-format secret key (seed ‖ public key, 64 bytes). */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== 64) throw new Error("an ed25519 secret key is 64 bytes");
  const key = createPrivateKey({ key: Buffer.from(concat(PKCS8_PREFIX, secretKey.subarray(0, 32))), format: "der", type: "pkcs8" });
  return new Uint8Array(nodeSign(null, message, key));
}

/** Never throws: a malformed key or signature fails verification. */
export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * `ed25519Verify` off the event loop: WebCrypto's Ed25519 runs on the runtime's worker threads, so a hello's
 * two verifications (~0.09 ms each, a quarter of a hello's broker time) no longer hold the broker's only
 * thread. Same verdicts as the synchronous one (test/crypto/ed25519.property.test.ts); never rejects.
 */
export async function ed25519VerifyAsync(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    const key = await crypto.subtle.importKey("raw", publicKey as Uint8Array<ArrayBuffer>, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify("Ed25519", key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}
