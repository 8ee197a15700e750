import ed2curve from "ed2curve";
import nacl from "tweetnacl";
import { b64, b64url, utf8 } from "./encoding.ts";

export interface Envelope {
  /** base64 24-byte nonce */
  nonce: string;
  /** base64 ciphertext */
  ciphertext: string;
}

function curvePublic(edPublicB64: string): Uint8Array {
  const pk = ed2curve.convertPublicKey(b64.decode(edPublicB64));
  if (!pk) throw new Error("not a valid ed25519 public key");
  return pk;
}

const curveSecret = (edSecretB64: string): Uint8Array => ed2curve.convertSecretKey(b64.decode(edSecretB64));

// X25519 shared keys are the expensive part of crypto_box; a session talks to few peers, so cache them.
const sharedKeys = new Map<string, Uint8Array>();
const SHARED_KEY_CACHE = 1024;

function sharedKey(peerEdPublic: string, myEdSecret: string): Uint8Array {
  const id = `${peerEdPublic}|${myEdSecret}`;
  let k = sharedKeys.get(id);
  if (!k) {
    k = nacl.box.before(curvePublic(peerEdPublic), curveSecret(myEdSecret));
    if (sharedKeys.size >= SHARED_KEY_CACHE) sharedKeys.delete(sharedKeys.keys().next().value as string);
    sharedKeys.set(id, k);
  }
  return k;
}

/** Direct message: crypto_box from the sender's session key to the recipient's, fresh random nonce. */
export function sealDirect(text: string, recipientSessionPub: string, senderSessionSecret: string): Envelope {
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const box = nacl.box.after(utf8.encode(text), nonce, sharedKey(recipientSessionPub, senderSessionSecret));
  return { nonce: b64.encode(nonce), ciphertext: b64.encode(box) };
}

/** Returns null when the box does not authenticate (tampered, wrong key, malformed). */
export function openDirect(env: Envelope, senderSessionPub: string, recipientSessionSecret: string): string | null {
  try {
    const out = nacl.box.open.after(b64.decode(env.ciphertext), b64.decode(env.nonce), sharedKey(senderSessionPub, recipientSessionSecret));
    return out ? utf8.decode(out) : null;
  } catch {
    return null;
  }
}

/** The mesh group key: SHA-512 over a domain label and the 32-byte root key, first 32 bytes. */
export function groupKey(rootKeyB64url: string): Uint8Array {
  const root = b64url.decode(rootKeyB64url);
  if (root.length !== 32) throw new Error("mesh root key must be 32 bytes");
  const label = utf8.encode("claudemesh-group-key-v1");
  const input = new Uint8Array(label.length + root.length);
  input.set(label);
  input.set(root, label.length);
  return nacl.hash(input).slice(0, nacl.secretbox.keyLength);
}

/** Group and broadcast messages: crypto_secretbox under the mesh group key. */
export function sealGroup(text: string, key: Uint8Array): Envelope {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  return { nonce: b64.encode(nonce), ciphertext: b64.encode(nacl.secretbox(utf8.encode(text), nonce, key)) };
}

export function openGroup(env: Envelope, key: Uint8Array): string | null {
  try {
    const out = nacl.secretbox.open(b64.decode(env.ciphertext), b64.decode(env.nonce), key);
    return out ? utf8.decode(out) : null;
  } catch {
    return null;
  }
}

/**
 * The spec's fallback for peers that sent base64 plaintext: decode only if it is canonical base64 of valid
 * UTF-8. The caller must flag the result as unauthenticated.
 */
export function decodeFallback(ciphertext: string): string | null {
  try {
    const bytes = Buffer.from(ciphertext, "base64");
    if (bytes.toString("base64") !== ciphertext) return null;
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
