// Node's Buffer where there is one (the CLI and the broker: native and lenient as before); the standard
// Uint8Array base64 methods (Baseline 2025) in the dashboard page, whose bundle gets no Node polyfills.
interface Base64Native {
  toBase64(opts?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
}
const fromBase64 = (s: string, alphabet: "base64" | "base64url"): Uint8Array =>
  (Uint8Array as unknown as { fromBase64(s: string, o: { alphabet: string }): Uint8Array }).fromBase64(s, { alphabet });
const hasBuffer = typeof Buffer !== "undefined";

export const b64 = hasBuffer
  ? {
      encode: (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64"),
      decode: (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64")),
    }
  : {
      encode: (bytes: Uint8Array): string => (bytes as unknown as Base64Native).toBase64(),
      decode: (s: string): Uint8Array => fromBase64(s, "base64"),
    };

export const b64url = hasBuffer
  ? {
      encode: (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url"),
      decode: (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64url")),
    }
  : {
      encode: (bytes: Uint8Array): string => (bytes as unknown as Base64Native).toBase64({ alphabet: "base64url", omitPadding: true }),
      decode: (s: string): Uint8Array => fromBase64(s, "base64url"),
    };

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  decode: (b: Uint8Array): string => new TextDecoder().decode(b),
};
