/** Headers of a member-signed HTTP request (see requestSigningString); shared by the client and the broker. */
export const SIGNED_HEADERS = {
  member: "x-claudemesh-member",
  timestamp: "x-claudemesh-timestamp",
  signature: "x-claudemesh-signature",
  /** random per request and signed: the broker refuses a nonce it has seen in the skew window */
  nonce: "x-claudemesh-nonce",
} as const;
