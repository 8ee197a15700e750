import { z } from "zod";
import { Base64Key, Base64Sig, BrokerUrl, DisplayName, GroupRole, GroupsField, optId, Status, StoredId } from "../protocol/common.ts";

/** The broker's first frame on every socket: the hello must sign this challenge. */
export const ChallengeFrame = z.object({ type: z.literal("challenge"), challenge: Base64Key });

/**
 * A member's signature letting a session key speak for it (the dashboard's browser session): over
 * delegationSigningString, registered with the broker before use.
 */
export const HelloDelegation = z.object({ expiresAt: z.number().int(), signature: Base64Sig });

export const HelloFrame = z.object({
  type: z.literal("hello"),
  ...optId,
  /** the challenge this connection received; signed, so a captured hello is useless on another socket */
  challenge: Base64Key,
  meshId: StoredId,
  memberId: StoredId,
  pubkey: Base64Key,
  sessionPubkey: Base64Key,
  displayName: DisplayName.optional(),
  role: GroupRole.optional(),
  groups: GroupsField.optional(),
  status: Status.optional(),
  sessionId: z.string().max(256).optional(),
  pid: z.number().int().nonnegative().optional(),
  cwd: z.string().max(4096).optional(),
  timestamp: z.number().int(),
  /** member key over helloSigningString (every field above); absent exactly when `delegation` is there */
  signature: Base64Sig.optional(),
  /** a delegated session's hello: the member's delegation instead of its signature */
  delegation: HelloDelegation.optional(),
  /** session key over the same bytes: proves the client holds the session secret it routes by */
  sessionSignature: Base64Sig,
});

export const HelloAckFrame = z.object({
  type: z.literal("hello_ack"),
  ...optId,
  presenceId: z.string(),
  meshId: z.string(),
  meshSlug: z.string(),
  memberId: z.string(),
  memberDisplayName: z.string(),
  displayName: z.string(),
  /** short-lived bearer token for the broker's HTTP routes */
  token: z.string(),
  tokenExpiresAt: z.number(),
  serverTime: z.number(),
  /** the live broker nodes' public URLs, for the client's failover list (absent from brokers before #14) */
  brokers: z.array(BrokerUrl).max(64).optional(),
});
