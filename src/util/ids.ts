import { customAlphabet } from "nanoid";

// nanoid draws with rejection sampling, so every character is equally likely (`byte % 36` is not).
const base36 = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz");

/** Random prefixed id such as `msg_k3j9…`; 16 chars of base36 ≈ 82 bits. */
export function newId(prefix: string, length = 16): string {
  return `${prefix}_${base36(length)}`;
}

/**
 * A prefixed id whose first 9 characters are its creation time (ms, base36, fixed width until the year
 * 5188), then 12 random ones (~62 bits): ids made later sort later. Rows keyed by one are appended to
 * their B-tree instead of landing on a random page: a message's row, and every recipient row's
 * (message, session) key, which a broadcast writes a thousand of at once.
 */
export function newSortableId(prefix: string, now = Date.now()): string {
  const ms = Math.max(0, Math.floor(now));
  // Within one millisecond the random part counts up from the first one (as ULID's monotonic mode does):
  // ids of a prefix made later by this process sort later even then, so a queue lists in the order it was
  // sent. Per prefix: a client's ids (its own clock) made between a broker's must not restart its count.
  let last = lastByPrefix.get(prefix);
  if (!last) lastByPrefix.set(prefix, (last = { ms: -1, tail: 0n }));
  const tail = ms === last.ms && last.tail < TAIL_MAX ? last.tail + 1n : fromBase36(base36(12));
  last.ms = ms;
  last.tail = tail;
  return `${prefix}_${ms.toString(36).padStart(9, "0")}${tail.toString(36).padStart(12, "0")}`;
}

const TAIL_MAX = 36n ** 12n - 1n;
const lastByPrefix = new Map<string, { ms: number; tail: bigint }>();

function fromBase36(s: string): bigint {
  let n = 0n;
  for (const c of s) n = n * 36n + BigInt(Number.parseInt(c, 36));
  return n;
}

/** Opaque secret (invite tokens, bearer tokens, admin token): 32 random bytes, base64url. */
export function newSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export function sha256Hex(s: string | Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}
