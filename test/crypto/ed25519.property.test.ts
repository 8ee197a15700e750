import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import nacl from "tweetnacl";
import { ed25519Sign, ed25519Verify, ed25519VerifyAsync } from "../../src/crypto/ed25519.ts";

// Native Ed25519 (node:crypto, and WebCrypto for the broker's hello) replaced tweetnacl for signatures; every peer that still signs or
// verifies with tweetnacl must see exactly the same bytes and the same verdicts.
const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const message = fc.uint8Array({ maxLength: 4096 });

describe("native ed25519 agrees with tweetnacl (fast-check)", () => {
  test("signatures are byte for byte identical, and each side verifies the other's", async () => {
    await fc.assert(
      fc.asyncProperty(seed, message, async (s, m) => {
        const kp = nacl.sign.keyPair.fromSeed(s);
        const native = ed25519Sign(m, kp.secretKey);
        const reference = nacl.sign.detached(m, kp.secretKey);
        expect(Buffer.from(native).equals(Buffer.from(reference))).toBe(true);
        expect(ed25519Verify(m, reference, kp.publicKey)).toBe(true);
        expect(await ed25519VerifyAsync(m, reference, kp.publicKey)).toBe(true);
        expect(nacl.sign.detached.verify(m, native, kp.publicKey)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  test("a flipped bit in the message, the signature or the key: both refuse", async () => {
    await fc.assert(
      fc.asyncProperty(
        seed,
        message.filter((m) => m.length > 0),
        fc.nat(),
        fc.constantFrom("message", "signature", "key"),
        async (s, m, at, where) => {
          const kp = nacl.sign.keyPair.fromSeed(s);
          const sig = nacl.sign.detached(m, kp.secretKey);
          const [msg, sg, pk] = [Uint8Array.from(m), Uint8Array.from(sig), Uint8Array.from(kp.publicKey)];
          const target = where === "message" ? msg : where === "signature" ? sg : pk;
          target[at % target.length] = (target[at % target.length] as number) ^ (1 << (at % 8));
          const reference = nacl.sign.detached.verify(msg, sg, pk);
          expect(ed25519Verify(msg, sg, pk)).toBe(reference);
          expect(await ed25519VerifyAsync(msg, sg, pk)).toBe(reference);
          expect(reference).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("arbitrary bytes as signature and key: the same verdict, and never a throw (or a rejection)", async () => {
    await fc.assert(
      fc.asyncProperty(
        message,
        fc.oneof(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ maxLength: 80 })),
        fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 })),
        async (m, sig, pk) => {
          const reference = sig.length === 64 && pk.length === 32 ? nacl.sign.detached.verify(m, sig, pk) : false;
          expect(ed25519Verify(m, sig, pk)).toBe(reference);
          expect(await ed25519VerifyAsync(m, sig, pk)).toBe(reference);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("degenerate keys and signatures (zero, the identity point, all ones): the same verdict on all three", async () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const identitySig = new Uint8Array(64);
    identitySig[0] = 1;
    const m = Uint8Array.from([1, 2, 3]);
    for (const [pk, sig] of [
      [new Uint8Array(32), new Uint8Array(64)],
      [identity, identitySig],
      [new Uint8Array(32).fill(0xff), new Uint8Array(64).fill(0xff)],
    ] as const) {
      const reference = nacl.sign.detached.verify(m, sig, pk);
      expect(ed25519Verify(m, sig, pk)).toBe(reference);
      expect(await ed25519VerifyAsync(m, sig, pk)).toBe(reference);
    }
  });
});
