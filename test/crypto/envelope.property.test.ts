import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { b64url } from "../../src/crypto/encoding.ts";
import { decodeFallback, groupKey, openDirect, openGroup, sealDirect, sealGroup } from "../../src/crypto/envelope.ts";
import { generateRootKey, generateSigningKeyPair, sign, verify } from "../../src/crypto/keys.ts";

const alice = generateSigningKeyPair();
const bob = generateSigningKeyPair();
const eve = generateSigningKeyPair();
const root = b64url.encode(generateRootKey());
const otherRoot = b64url.encode(generateRootKey());

describe("envelopes (fast-check)", () => {
  test("direct: round trip, and only the right key pair opens it", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (text) => {
        const env = sealDirect(text, bob.publicKey, alice.secretKey);
        expect(openDirect(env, alice.publicKey, bob.secretKey)).toBe(text);
        expect(openDirect(env, alice.publicKey, eve.secretKey)).toBeNull(); // wrong recipient
        expect(openDirect(env, eve.publicKey, bob.secretKey)).toBeNull(); // forged sender
      }),
      { numRuns: 150 },
    );
  });

  test("group: round trip under the mesh key; another mesh's key fails", () => {
    const k = groupKey(root);
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (text) => {
        const env = sealGroup(text, k);
        expect(openGroup(env, k)).toBe(text);
        expect(openGroup(env, groupKey(otherRoot))).toBeNull();
      }),
      { numRuns: 150 },
    );
  });

  test("any single flipped bit in ciphertext or nonce is rejected", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.nat(), fc.boolean(), (text, at, inNonce) => {
        const env = sealDirect(text, bob.publicKey, alice.secretKey);
        const field = inNonce ? "nonce" : "ciphertext";
        const bytes = Buffer.from(env[field], "base64");
        const i = at % bytes.length;
        bytes[i] = (bytes[i] ?? 0) ^ (1 << (at % 8));
        expect(openDirect({ ...env, [field]: bytes.toString("base64") }, alice.publicKey, bob.secretKey)).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  test("fresh nonce every time: the same text never yields the same envelope", () => {
    const a = sealDirect("same", bob.publicKey, alice.secretKey);
    const b = sealDirect("same", bob.publicKey, alice.secretKey);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  test("malformed inputs never throw", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (nonce, ciphertext, pub) => {
        expect(openDirect({ nonce, ciphertext }, pub, bob.secretKey)).toBeNull();
        expect(openGroup({ nonce, ciphertext }, groupKey(root))).toBeNull();
        decodeFallback(ciphertext);
        expect(verify(ciphertext, nonce, pub)).toBe(false);
      }),
    );
  });

  test("signatures verify only for the signed bytes and key", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (m, other) => {
        const s = sign(m, alice.secretKey);
        expect(verify(m, s, alice.publicKey)).toBe(true);
        expect(verify(m, s, bob.publicKey)).toBe(false);
        if (other !== m) expect(verify(other, s, alice.publicKey)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  test("base64 fallback: canonical base64 of UTF-8 only", () => {
    expect(decodeFallback(Buffer.from("héllo").toString("base64"))).toBe("héllo");
    expect(decodeFallback("not base64!")).toBeNull();
    expect(decodeFallback(Buffer.from([0xff, 0xfe, 0xfd]).toString("base64"))).toBeNull();
  });
});
