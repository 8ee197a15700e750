import type { z } from "zod";
import { helloSigningString, sign } from "../crypto/keys.ts";
import { describeIssues } from "../protocol/codec.ts";
import { InvalidArgument } from "../util/errors.ts";
import { HelloFrame } from "../meshes/frames.ts";

const Unsigned = HelloFrame.omit({ signature: true, sessionSignature: true, delegation: true });
export type UnsignedHello = z.input<typeof Unsigned>;

/**
 * Builds a signed hello. The fields go through the broker's own schema first, so both sides sign the
 * same normalised values (trimmed names, parsed groups) and a bad name fails here with a clear error.
 */
export function signHello(unsigned: UnsignedHello, memberSecretKey: string, sessionSecretKey: string): z.infer<typeof HelloFrame> {
  const parsed = Unsigned.safeParse(unsigned);
  if (!parsed.success) throw new InvalidArgument(`invalid hello: ${describeIssues(parsed.error)}`);
  const signed = helloSigningString(parsed.data);
  return { ...parsed.data, signature: sign(signed, memberSecretKey), sessionSignature: sign(signed, sessionSecretKey) };
}

/** A delegated session's hello: signed by the session key alone, carrying the member's delegation. */
export function signDelegatedHello(
  unsigned: UnsignedHello,
  delegation: { expiresAt: number; signature: string },
  sessionSecretKey: string,
): z.infer<typeof HelloFrame> {
  const parsed = Unsigned.safeParse(unsigned);
  if (!parsed.success) throw new InvalidArgument(`invalid hello: ${describeIssues(parsed.error)}`);
  return { ...parsed.data, delegation, sessionSignature: sign(helloSigningString(parsed.data), sessionSecretKey) };
}
