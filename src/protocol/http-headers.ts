/** Headers of a member-signed HTTP request (see requestSigningString); shared by the client and the broker. */
export const SIGNED_HEADERS = {
  member: "x-claudemesh-member",
  timestamp: "x-claudemesh-timestamp",
  signature: "x-claudemesh-signature",
} as const;
