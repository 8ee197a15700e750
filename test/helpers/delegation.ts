import type { MeshConfig } from "../../src/client/config.ts";
import type { DelegatedSession } from "../../src/client/delegate.ts";
import { signDelegatedHello, type UnsignedHello } from "../../src/client/hello-sign.ts";
import { rawSocket, type TestBroker } from "./broker.ts";

/** A hello from the delegated session key alone, as the dashboard page sends it. */
export async function delegatedHello(
  b: Pick<TestBroker, "wsUrl">,
  member: MeshConfig,
  d: DelegatedSession,
  opts: { now?: number; extra?: Partial<UnsignedHello>; delegation?: { expiresAt: number; signature: string } } = {},
) {
  const s = await rawSocket(b);
  const frame = signDelegatedHello(
    {
      type: "hello",
      id: "h1",
      challenge: s.challenge,
      meshId: member.meshId,
      memberId: member.memberId,
      pubkey: member.pubkey,
      sessionPubkey: d.session.publicKey,
      timestamp: opts.now ?? Date.now(),
      displayName: `${member.displayName} (human)`,
      ...opts.extra,
    },
    opts.delegation ?? { expiresAt: d.expiresAt, signature: d.signature },
    d.session.secretKey,
  );
  s.ws.send(JSON.stringify(frame));
  return { reply: await s.next(), s, frame };
}
