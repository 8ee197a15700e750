import { z } from "zod";
import { Base64Key, optId, StoredId, storable } from "../protocol/common.ts";

export const Priority = z.enum(["now", "next", "low"]);
export type Priority = z.infer<typeof Priority>;

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64");
export const Nonce = z.string().regex(/^[A-Za-z0-9+/]{32}$/, "must be a base64 24-byte nonce");
export const EnvelopeSchema = z.object({ nonce: Nonce, ciphertext: B64.min(1) });

/** One target: a display name, `@group`, `@all` or `*`. */
export const Target = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .refine(...storable);
export const MessageId = StoredId;

/** direct: one envelope per recipient session; group: one envelope under the mesh key for everyone. */
export const MessageKind = z.enum(["direct", "group"]);
export type MessageKind = z.infer<typeof MessageKind>;

export const SendFrame = z.object({
  type: z.literal("send"),
  ...optId,
  /** The client's own id for this message: resending it never creates a second message. */
  clientId: StoredId,
  to: z.union([Target, z.array(Target).min(1).max(64)]),
  priority: Priority.default("next"),
  kind: MessageKind,
  /** direct: one crypto_box per recipient session */
  envelopes: z
    .array(EnvelopeSchema.extend({ sessionPubkey: Base64Key }))
    .max(1024)
    .optional(),
  /** group / broadcast: one secretbox for everyone */
  group: EnvelopeSchema.optional(),
});

/** The most message ids one receipt carries. */
export const RECEIPT_IDS = 1000;
/** Recipient receipt: these pushes reached the session's client (drained ones: once they are shown). */
export const ReceivedFrame = z.object({ type: z.literal("received"), ...optId, messageIds: z.array(MessageId).min(1).max(RECEIPT_IDS) });
/** These messages were shown to Claude (pushed into the conversation or drained by check_messages). */
export const SurfacedFrame = z.object({ type: z.literal("surfaced"), ...optId, messageIds: z.array(MessageId).min(1).max(RECEIPT_IDS) });
/** The largest page a drain may ask for (a frame's worth, and then some). */
const MAX_DRAIN_PAGE_CHARS = 16 * 1024 * 1024;
/**
 * What is still queued for this session, whatever its priority (check_messages), oldest first: with
 * `maxChars`, the messages that fit in that many characters of JSON (at least one), else all of them.
 */
export const FetchQueuedFrame = z.object({ type: z.literal("fetch_queued"), ...optId, maxChars: z.number().int().min(1).max(MAX_DRAIN_PAGE_CHARS).optional() });
export const MessageStatusFrame = z.object({ type: z.literal("message_status"), ...optId, messageId: MessageId });

export const AckFrame = z.object({
  type: z.literal("ack"),
  ...optId,
  clientId: z.string(),
  messageId: z.string(),
  recipients: z.array(z.object({ name: z.string(), sessionPubkey: z.string() })),
  /** true when this clientId had been sent before and nothing new was stored */
  duplicate: z.boolean(),
});

export const PushBody = z.object({
  messageId: z.string(),
  meshId: z.string(),
  /** the session's display name, chosen by the sender */
  senderName: z.string(),
  /** the sender's member name from its enrolment: who really speaks, whatever the session calls itself */
  senderMemberName: z.string(),
  senderPubkey: z.string(),
  senderMemberId: z.string(),
  priority: Priority,
  kind: MessageKind,
  /** the targets as the sender wrote them */
  to: z.string(),
  nonce: z.string(),
  ciphertext: z.string(),
  createdAt: z.number(),
  /** low-priority messages waiting for check_messages */
  lowPending: z.number(),
});
export type PushBody = z.infer<typeof PushBody>;
export const PushFrame = PushBody.extend({ type: z.literal("push") });
/** `more`: how many are still queued after these (a page asked for with `maxChars`). */
export const QueuedMessagesFrame = z.object({
  type: z.literal("queued_messages"),
  ...optId,
  messages: z.array(PushBody),
  more: z.number().int().nonnegative().optional(),
});

export const DeliveryStatus = z.enum(["queued", "delivered", "surfaced", "expired"]);
export const MessageStatusResultFrame = z.object({
  type: z.literal("message_status_result"),
  ...optId,
  messageId: z.string(),
  /** every recipient has at least received it */
  delivered: z.boolean(),
  recipients: z.array(
    z.object({
      name: z.string(),
      sessionPubkey: z.string(),
      status: DeliveryStatus,
      queuedAt: z.number(),
      deliveredAt: z.number().nullable(),
      surfacedAt: z.number().nullable(),
      expiredAt: z.number().nullable(),
    }),
  ),
});
