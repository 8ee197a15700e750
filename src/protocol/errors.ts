import { z } from "zod";

/** Every error the broker can answer with; one code per distinct failure so clients can branch on it. */
export const ErrorCode = z.enum([
  // framing
  "bad_json",
  "unknown_type",
  "invalid_frame",
  "invalid_argument",
  "frame_too_large",
  // session
  "not_authenticated",
  "already_authenticated",
  "rate_limited",
  /** the node is saturated (a reconnect storm): come back after retryAfterMs */
  "busy",
  // hello / auth
  "bad_member_signature",
  "bad_session_signature",
  "stale_timestamp",
  "bad_challenge",
  "replayed_request",
  "name_taken",
  "unknown_mesh",
  "unknown_member",
  "member_revoked",
  "bad_delegation",
  "delegation_expired",
  "delegation_revoked",
  "wrong_mesh",
  "unauthorized",
  "forbidden",
  // invites
  "invite_not_found",
  "invite_expired",
  "invite_used_up",
  "invite_revoked",
  // meshes
  "slug_taken",
  "not_found",
  // messaging
  "unknown_target",
  "missing_envelope",
  "message_too_large",
  "quota_exceeded",
  // state / memory / values
  "value_too_large",
  "key_too_long",
  // files
  "file_too_large",
  "storage_quota_exceeded",
  "file_deleted",
  "file_expired",
  "bad_download_url",
  // catch-all
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The body of every HTTP error the broker answers (`src/broker/http.ts`), as a client reads it. */
export const HttpErrorBody = z.object({ error: z.object({ code: ErrorCode, message: z.string().optional() }) });
