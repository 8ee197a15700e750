import type { Connection, Transport } from "../../src/broker/peer.ts";
import type { RunningBroker } from "../../src/server/app.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { signHello, type UnsignedHello } from "../../src/client/hello-sign.ts";

export interface RecordingTransport extends Transport {
  /** every frame the broker sent, parsed */
  frames: any[];
  /** how many pings the broker sent */
  pings: number;
  /** the code the broker closed the socket with, or null while it is open */
  closedWith(): number | null;
}

/** An in-process transport: records frames and pings, never answers pings by itself. */
export function recordingTransport(): RecordingTransport {
  const frames: any[] = [];
  let closedWith: number | null = null;
  const t: RecordingTransport = {
    frames,
    pings: 0,
    send: (d) => void frames.push(JSON.parse(d)),
    close: (code) => void (closedWith = code),
    ping: () => void t.pings++,
    closedWith: () => closedWith,
  };
  return t;
}

export interface InProcessSession {
  /** every frame the broker sent this session, parsed */
  frames: any[];
  transport: RecordingTransport;
  /** the broker's end of the session, for calls a socket would make (pong, close) */
  conn: Connection;
  sessionPubkey: string;
  /** Sends raw text (any bytes a client could send) and resolves with the frames it produced. */
  send(raw: string): Promise<any[]>;
  close(): Promise<void>;
}

/**
 * A signed-in session driven in-process through the broker core, for frames a well-behaved client cannot
 * produce (malformed JSON, values too deep for JSON.stringify) and for what a socket would do by itself
 * (pings, pongs). Handling is awaited, so no waiting is needed. `hello` adds fields to the (signed) hello frame;
 * the broker's challenge is taken off `frames`.
 */
export async function inProcessSession(b: RunningBroker, m: MeshConfig, hello: Record<string, unknown> = {}): Promise<InProcessSession> {
  const transport = recordingTransport();
  const frames = transport.frames;
  const conn = b.broker.open(transport);
  const session = generateSigningKeyPair();
  const challenge = frames.shift();
  if (challenge?.type !== "challenge") throw new Error(`expected a challenge first, got ${JSON.stringify(challenge)}`);
  const send = async (raw: string) => {
    const before = frames.length;
    await b.broker.message(conn, raw);
    return frames.slice(before);
  };
  const unsigned = {
    type: "hello",
    challenge: challenge.challenge,
    meshId: m.meshId,
    memberId: m.memberId,
    pubkey: m.pubkey,
    sessionPubkey: session.publicKey,
    timestamp: Date.now(),
    displayName: m.displayName,
    ...hello,
  } as UnsignedHello;
  const [ack] = await send(JSON.stringify(signHello(unsigned, m.secretKey, session.secretKey)));
  if (ack?.type !== "hello_ack") throw new Error(`hello refused: ${JSON.stringify(ack)}`);
  return { frames, transport, conn, sessionPubkey: session.publicKey, send, close: () => b.broker.close(conn) };
}
