import type { Transport } from "../../src/broker/peer.ts";
import type { RunningBroker } from "../../src/broker/server.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { generateSigningKeyPair, helloSigningString, sign } from "../../src/crypto/keys.ts";

export interface InProcessSession {
  /** every frame the broker sent this session, parsed */
  frames: any[];
  /** Sends raw text (any bytes a client could send) and resolves with the frames it produced. */
  send(raw: string): Promise<any[]>;
  close(): Promise<void>;
}

/**
 * A signed-in session driven in-process through the broker core, for frames a well-behaved client cannot
 * produce (malformed JSON, values too deep for JSON.stringify). Handling is awaited, so no waiting is needed.
 */
export async function inProcessSession(b: RunningBroker, m: MeshConfig): Promise<InProcessSession> {
  const frames: any[] = [];
  const t: Transport = { send: (d) => void frames.push(JSON.parse(d)), close: () => {}, ping: () => {} };
  const conn = b.broker.open(t);
  const session = generateSigningKeyPair();
  const base = { meshId: m.meshId, memberId: m.memberId, pubkey: m.pubkey, sessionPubkey: session.publicKey, timestamp: Date.now() };
  const signed = helloSigningString(base);
  const send = async (raw: string) => {
    const before = frames.length;
    await b.broker.message(conn, raw);
    return frames.slice(before);
  };
  const [ack] = await send(JSON.stringify({ type: "hello", ...base, displayName: m.displayName, signature: sign(signed, m.secretKey), sessionSignature: sign(signed, session.secretKey) }));
  if (ack?.type !== "hello_ack") throw new Error(`hello refused: ${JSON.stringify(ack)}`);
  return { frames, send, close: () => b.broker.close(conn) };
}
