import { customAlphabet } from "nanoid";

// nanoid draws with rejection sampling, so every character is equally likely (`byte % 36` is not).
const base36 = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz");

/** Random prefixed id such as `msg_k3j9…`; 16 chars of base36 ≈ 82 bits. */
export function newId(prefix: string, length = 16): string {
  return `${prefix}_${base36(length)}`;
}

/** Opaque secret (invite tokens, bearer tokens, admin token): 32 random bytes, base64url. */
export function newSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export function sha256Hex(s: string | Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}
