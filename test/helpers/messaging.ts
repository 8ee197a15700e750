import type { BrokerClient, BrokerClientOptions } from "../../src/client/broker-client.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { generateSigningKeyPair, type KeyPair } from "../../src/crypto/keys.ts";
import { type InboundMessage, Messenger } from "../../src/messaging/messenger.ts";
import { connect } from "./broker.ts";

export interface TestPeer {
  client: BrokerClient;
  /** the membership and session key it connected with: another process of the same session reuses both */
  member: MeshConfig;
  session: KeyPair;
  messenger: Messenger;
  /** every message event, in order */
  inbox: InboundMessage[];
  /** resolves with the next message event not yet taken */
  next(): Promise<InboundMessage>;
}

/** A connected session with a Messenger, recording every message it is pushed. */
export async function messagingPeer(member: MeshConfig, opts: Partial<BrokerClientOptions> = {}): Promise<TestPeer> {
  const session = opts.session ?? generateSigningKeyPair();
  const client = await connect(member, { ...opts, session });
  const messenger = new Messenger(client, { rootKey: member.rootKey, sessionSecretKey: session.secretKey });
  const inbox: InboundMessage[] = [];
  let taken = 0;
  const waiters: ((m: InboundMessage) => void)[] = [];
  messenger.on("message", (m) => {
    inbox.push(m);
    const w = waiters.shift();
    if (w) {
      taken++;
      w(m);
    }
  });
  return {
    client,
    member,
    session,
    messenger,
    inbox,
    next() {
      if (taken < inbox.length) return Promise.resolve(inbox[taken++] as InboundMessage);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/**
 * Sends a `now` marker from `from` to each peer and waits for it: pushes to one session are ordered, so
 * anything the broker would have pushed before the marker has arrived by then. Proves absence without sleeping.
 */
export async function flush(from: TestPeer, ...peers: TestPeer[]): Promise<void> {
  for (const p of peers) {
    const name = p.client.ack?.displayName ?? "";
    const { messageId } = await from.messenger.send(name, "marker", "now");
    while ((await p.next()).messageId !== messageId);
  }
}

/** Texts a peer was pushed, without flush markers. */
export const texts = (p: TestPeer): string[] => p.inbox.filter((m) => m.text !== "marker").map((m) => m.text);

/** Everyone `observer` sees on its mesh, itself included (marked `self`). */
export async function peersOf(observer: TestPeer) {
  return (await observer.client.request({ type: "list_peers" }, "peers_list")).peers;
}

/**
 * Polls list_peers until `name` is online (with `status`, unless null): status changes reach other peers
 * only through the broker, which announces nothing to a test. Fails with the whole list.
 */
export async function waitForPeer(observer: TestPeer, name: string, status: string | null = null, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const peers = await peersOf(observer);
    const p = peers.find((x) => x.name === name && !x.self);
    if (p && (status === null || p.status === status)) return p;
    if (Date.now() > deadline) throw new Error(`${name} not ${status ?? "online"} after ${timeoutMs} ms: ${JSON.stringify(peers)}`);
    await Bun.sleep(50);
  }
}
