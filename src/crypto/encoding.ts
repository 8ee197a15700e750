export const b64 = {
  encode: (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64"),
  decode: (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64")),
};

export const b64url = {
  encode: (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url"),
  decode: (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64url")),
};

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  decode: (b: Uint8Array): string => new TextDecoder().decode(b),
};
