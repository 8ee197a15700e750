import { MAX_CLOCK_SKEW_MS } from "../protocol/clock.ts";

export interface BrokerLimits {
  /** Largest accepted WS frame; larger ones get `frame_too_large`. */
  maxFrameBytes: number;
  pingIntervalMs: number;
  /** Missed pings before a peer is swept as disconnected. */
  maxMissedPings: number;
  /** Unauthenticated sockets that do not hello within this time are closed. */
  helloTimeoutMs: number;
  /** Allowed clock skew for hello and signed HTTP requests. */
  skewMs: number;
  tokenTtlMs: number;
  /** Frames per second per connection (any type), with a burst of twice that. */
  frameRatePerSec: number;
  /** `send` frames per second per connection, with a burst of twice that. */
  sendRatePerSec: number;
  /** New WebSocket connections per second from one remote address, burst twice that (each may try one hello). */
  connectRatePerAddress: number;
  /** Hellos per second of one member across all its connections, burst twice that; checked before any signature. */
  helloRatePerMember: number;
  /** Hellos being verified and recorded at once on this node; past it a hello is answered `busy` with a time to come back. */
  maxPendingHellos: number;
  /** Frames per second of one member across all its connections, burst twice that. */
  memberFrameRatePerSec: number;
  /** Largest message ciphertext (bytes of base64 text per envelope). */
  maxMessageBytes: number;
  /** Undelivered messages expire after this long. */
  messageTtlMs: number;
  /** Undelivered messages one member may have stored (ciphertext not yet deleted), and their bytes of ciphertext. */
  maxQueuedMessagesPerMember: number;
  maxQueuedBytesPerMember: number;
  /** The same for all members of one mesh together. */
  maxQueuedMessagesPerMesh: number;
  maxQueuedBytesPerMesh: number;
  /** How long the ciphertext-free status rows of an expired message stay for `message_status`. */
  statusRetentionMs: number;
  /** How long the history of ended sessions (presence rows) is kept. */
  presenceRetentionMs: number;
  /** How often expiry and other housekeeping runs. */
  sweepIntervalMs: number;
  /** Longest shared-state key, in characters (code points). */
  maxStateKeyChars: number;
  /** Largest shared-state value, in UTF-8 bytes of its JSON text. */
  maxStateValueBytes: number;
  /** Largest memory, in UTF-8 bytes. */
  maxMemoryBytes: number;
  /** Most tags on one memory (or in one recall filter). */
  maxMemoryTags: number;
  /** Longest tag, in characters (code points). */
  maxTagChars: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  maxFrameBytes: 1024 * 1024,
  pingIntervalMs: 30_000,
  maxMissedPings: 3,
  helloTimeoutMs: 10_000,
  skewMs: MAX_CLOCK_SKEW_MS,
  tokenTtlMs: 60 * 60_000,
  frameRatePerSec: 200,
  sendRatePerSec: 50,
  connectRatePerAddress: 20,
  helloRatePerMember: 5,
  maxPendingHellos: 4096,
  memberFrameRatePerSec: 500,
  maxMessageBytes: 256 * 1024,
  messageTtlMs: 7 * 24 * 60 * 60_000,
  maxQueuedMessagesPerMember: 10_000,
  maxQueuedBytesPerMember: 128 * 1024 * 1024,
  maxQueuedMessagesPerMesh: 100_000,
  maxQueuedBytesPerMesh: 1024 * 1024 * 1024,
  statusRetentionMs: 7 * 24 * 60 * 60_000,
  presenceRetentionMs: 30 * 24 * 60 * 60_000,
  sweepIntervalMs: 60_000,
  maxStateKeyChars: 256,
  maxStateValueBytes: 64 * 1024,
  maxMemoryBytes: 16 * 1024,
  maxMemoryTags: 16,
  maxTagChars: 64,
};
