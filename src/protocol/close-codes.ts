/** WebSocket close codes the broker uses; the client branches on the same names. */
export const CLOSE = {
  authFailed: 4001,
  replaced: 4002,
  revoked: 4003,
  helloTimeout: 4004,
  pingTimeout: 4008,
  overloaded: 4009,
  /** over a per-member or per-address budget; the error frame before it says when to retry */
  rateLimited: 4029,
  shutdown: 1001,
  /** a client's own goodbye */
  normal: 1000,
  /** a client dropping its own socket as if the network failed (BrokerClient.dropConnection); never the broker's */
  dropped: 4999,
} as const;
