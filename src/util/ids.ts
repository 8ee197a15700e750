const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Random prefixed id such as `msg_k3j9…`; 16 chars of base36 ≈ 82 bits. */
export function newId(prefix: string, length = 16): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % 36];
  return `${prefix}_${out}`;
}

/** Opaque secret (invite tokens, bearer tokens, admin token): 32 random bytes, base64url. */
export function newSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export function sha256Hex(s: string | Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}
