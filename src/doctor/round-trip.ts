import { BrokerClient } from "../client/broker-client.ts";
import type { MeshConfig } from "../client/config.ts";
import { generateSigningKeyPair } from "../crypto/keys.ts";
import { type InboundMessage, Messenger } from "../messaging/messenger.ts";
import { newId } from "../util/ids.ts";
import type { CheckResult } from "./checks.ts";

/**
 * The whole message path, end to end: one throwaway session with a unique name sends an encrypted
 * `now` message to that very name and waits for the broker to push it back and for it to decrypt.
 * It then reports the message surfaced, as a session does once its model saw it, and waits for the
 * broker's answer: the broker frees it at once, so a doctor run leaves nothing stored against the
 * member's quota (a message to a session that is gone would wait there until it expired).
 */
export async function checkRoundTrip(mesh: MeshConfig, timeoutMs = 10_000): Promise<CheckResult> {
  const name = `round trip in ${mesh.slug}`;
  const session = generateSigningKeyPair();
  const displayName = newId("doctor", 8);
  const client = new BrokerClient({ mesh, session, displayName, reconnect: false, requestTimeoutMs: timeoutMs });
  const messenger = new Messenger(client, { rootKey: mesh.rootKey, sessionSecretKey: session.secretKey });
  const text = `claudemesh doctor ${newId("ping", 12)}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await client.connect();
    const t0 = Date.now();
    const received = new Promise<InboundMessage>((resolve, reject) => {
      messenger.on("message", (m) => {
        if (m.text === text) resolve(m);
      });
      timer = setTimeout(() => reject(new Error(`sent, but nothing came back within ${timeoutMs / 1000}s`)), timeoutMs);
    });
    await messenger.send(displayName, text, "now");
    const m = await received;
    const ms = Date.now() - t0;
    await client.request({ type: "surfaced", messageIds: [m.messageId] }, "ok");
    if (!m.authenticated)
      return { name, ok: false, detail: "the message came back but did not decrypt", hint: "report this: session keys or envelopes disagree" };
    return { name, ok: true, detail: `sent to itself as ${displayName}, pushed back and decrypted in ${ms}ms` };
  } catch (e) {
    return {
      name,
      ok: false,
      detail: e instanceof Error ? e.message : String(e),
      hint: "see the broker check above; if the broker is fine, look at the broker's log",
    };
  } finally {
    clearTimeout(timer);
    client.close();
  }
}
