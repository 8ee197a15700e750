/** The bench's clients: raw WebSockets, the same for the relay and the broker, with the real hello for the broker. */
import { generateKeyPairSync } from "node:crypto";
import { signHello } from "../../../src/client/hello-sign.ts";
import type { KeyPair } from "../../../src/crypto/keys.ts";

/** A fresh Ed25519 key pair in tweetnacl's format, from the runtime's native generator (the bench makes thousands). */
export function fastKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d as string, "base64url");
  return { publicKey: pub.toString("base64"), secretKey: Buffer.concat([seed, pub]).toString("base64") };
}

export interface Member {
  meshId: string;
  memberId: string;
  pubkey: string;
  secretKey: string;
}

type Frame = Record<string, unknown> & { type: string };

/** Every push seen by any session, by the marker its ciphertext starts with. */
const arrivals = new Map<string, (name: string) => void>();
export const onArrival = (marker: string, fn: (name: string) => void) => arrivals.set(marker, fn);
export const offArrival = (marker: string) => arrivals.delete(marker);

let nextId = 0;

export class Session {
  private readonly pending = new Map<string, (f: Frame) => void>();
  sessionPubkey = "";

  private constructor(
    readonly name: string,
    readonly ws: WebSocket,
  ) {
    ws.onmessage = (ev) => {
      const f = JSON.parse(String(ev.data)) as Frame;
      if (f.type === "push") {
        const ct = String(f.ciphertext ?? "");
        arrivals.get(ct.slice(0, ct.indexOf("x")))?.(this.name);
        // the real client acknowledges each push; the receipt is part of the broker's work
        ws.send(JSON.stringify({ type: "received", messageIds: [f.messageId] }));
        return;
      }
      const id = typeof f.id === "string" ? f.id : undefined;
      const waiter = id ? this.pending.get(id) : undefined;
      if (waiter && id) {
        this.pending.delete(id);
        waiter(f);
      }
    };
  }

  request(frame: Frame): Promise<Frame> {
    const id = `r${nextId++}`;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  close(): void {
    this.ws.close();
  }

  /** Connects and says hello: the raw relay's one frame, or the broker's signed hello over its challenge. */
  static async open(wsUrl: string, name: string, member: Member | null): Promise<Session> {
    const ws = new WebSocket(wsUrl);
    const first = new Promise<Frame | null>((resolve, reject) => {
      ws.onopen = () => {
        if (!member) resolve(null);
      };
      ws.onmessage = (ev) => resolve(JSON.parse(String(ev.data)) as Frame);
      ws.onerror = () => reject(new Error(`cannot connect ${name} to ${wsUrl}`));
    });
    const challenge = await first;
    const s = new Session(name, ws);
    if (!member) {
      await s.request({ type: "hello", name });
      return s;
    }
    const session = fastKeyPair();
    s.sessionPubkey = session.publicKey;
    const hello = signHello(
      {
        type: "hello",
        challenge: String(challenge?.challenge),
        meshId: member.meshId,
        memberId: member.memberId,
        pubkey: member.pubkey,
        sessionPubkey: session.publicKey,
        timestamp: Date.now(),
        displayName: name,
        status: "idle",
      },
      member.secretKey,
      session.secretKey,
    );
    const ack = await s.request(hello);
    if (ack.type !== "hello_ack") throw new Error(`hello refused for ${name}: ${JSON.stringify(ack)}`);
    return s;
  }
}

const NONCE = "A".repeat(32);
// ~200 bytes of ciphertext, a short message's worth; the marker before the first `x` identifies it
const PAD = "x".repeat(200);

/** A send frame: direct to one named session (with its envelope) or a group message to everyone. */
export function sendFrame(marker: string, to: Session | "*"): Frame {
  const ciphertext = `${marker}${PAD}`;
  if (to === "*") return { type: "send", clientId: marker, to: "*", priority: "now", kind: "group", group: { nonce: NONCE, ciphertext } };
  return {
    type: "send",
    clientId: marker,
    to: to.name,
    priority: "now",
    kind: "direct",
    envelopes: [{ sessionPubkey: to.sessionPubkey || "relay", nonce: NONCE, ciphertext }],
  };
}
