/** Everything a hello declares, as the broker parsed it; the signature covers every field. */
export interface HelloSigned {
  challenge: string;
  meshId: string;
  memberId: string;
  pubkey: string;
  sessionPubkey: string;
  timestamp: number;
  displayName?: string;
  role?: string;
  groups?: { name: string; role: string | null }[];
  status?: string;
  sessionId?: string;
  pid?: number;
  cwd?: string;
}

/**
 * The canonical bytes a `hello` signs (docs/PROTOCOL.md): the UTF-8 of a JSON array in a fixed order, so
 * no field can bleed into another. Absent attributes are `null`; groups are deduplicated (last wins, as
 * the broker applies them) and sorted by name in code-unit order. Both the member key and the session key
 * sign exactly this.
 */
export function helloSigningString(f: HelloSigned): string {
  const groups = f.groups === undefined ? null : [...new Map(f.groups.map((g) => [g.name, g.role]))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    "claudemesh-hello-v2",
    f.challenge,
    f.meshId,
    f.memberId,
    f.pubkey,
    f.sessionPubkey,
    f.timestamp,
    f.displayName ?? null,
    f.role ?? null,
    groups,
    f.status ?? null,
    f.sessionId ?? null,
    f.pid ?? null,
    f.cwd ?? null,
  ]);
}

/** The canonical bytes a member-signed HTTP request signs (docs/PROTOCOL.md); the nonce makes each one single-use. */
export function requestSigningString(f: { method: string; path: string; timestamp: number; nonce: string; bodySha256: string }): string {
  return ["claudemesh-request-v2", f.method.toUpperCase(), f.path, String(f.timestamp), f.nonce, f.bodySha256].join("\n");
}

/** What a member signs to let a session key speak for it on one mesh until `expiresAt` (docs/DECISIONS.md). */
export interface DelegationSigned {
  meshId: string;
  memberId: string;
  sessionPubkey: string;
  expiresAt: number;
}

/**
 * The canonical bytes of a delegation: like the hello, a JSON array in a fixed order under its own label,
 * so a delegation can never pass for a hello or a request signature.
 */
export function delegationSigningString(d: DelegationSigned): string {
  return JSON.stringify(["claudemesh-delegation-v1", d.meshId, d.memberId, d.sessionPubkey, d.expiresAt]);
}
