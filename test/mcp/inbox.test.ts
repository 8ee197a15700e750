import { describe, expect, test } from "bun:test";
import { Inbox } from "../../src/mcp/inbox.ts";
import type { InboundMessage } from "../../src/messaging/messenger.ts";
import { addMember, createMesh, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { messagingPeer } from "../helpers/messaging.ts";

/** A push whose outcome the test decides, so the race between a push and check_messages can be staged. */
function controlledPush() {
  const calls: { m: InboundMessage; settle(ok: boolean): void }[] = [];
  const waiters: ((c: (typeof calls)[number]) => void)[] = [];
  const push = (m: InboundMessage) =>
    new Promise<boolean>((resolve) => {
      const call = { m, settle: resolve };
      calls.push(call);
      waiters.shift()?.(call);
    });
  let taken = 0;
  const next = () =>
    taken < calls.length
      ? Promise.resolve(calls[taken++] as (typeof calls)[number])
      : new Promise<(typeof calls)[number]>((r) => waiters.push((c) => (taken++, r(c))));
  return { push, calls, next };
}

describe("Inbox: every message reaches Claude exactly once", () => {
  let b: TestBroker;
  let mesh: TestMesh;
  let n = 0;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker("sqlite"));
    mesh = await createMesh(b, "inbox");
  });

  async function pair() {
    n++;
    const alice = await messagingPeer(await addMember(b, mesh, `A${n}`));
    const bob = await messagingPeer(await addMember(b, mesh, `B${n}`));
    const ctl = controlledPush();
    const inbox = new Inbox(alice.messenger, ctl.push);
    return { alice, bob, ctl, inbox, aliceName: `A${n}` };
  }

  test("a message whose push is still in flight is not handed out by check_messages too", async () => {
    const { alice, bob, ctl, inbox, aliceName } = await pair();
    inbox.start();
    const sent = await bob.messenger.send(aliceName, "racing", "next");
    const call = await ctl.next();
    expect(call.m.messageId).toBe(sent.messageId);
    expect((await inbox.check()).messages).toEqual([]);
    call.settle(true);
    // Let the settled push's continuation run (microtasks only), then a round trip on Alice's own
    // connection: frames of one connection are handled in order, so her surfaced receipt is in.
    await new Promise((r) => setImmediate(r));
    await alice.client.request({ type: "list_peers" }, "peers_list");
    expect((await inbox.check()).messages).toEqual([]);
    const status = await bob.messenger.status(sent.messageId);
    expect(status.recipients[0]?.status).toBe("surfaced");
  });

  test("a failed push leaves the message for check_messages", async () => {
    const { bob, ctl, inbox, aliceName } = await pair();
    inbox.start();
    const sent = await bob.messenger.send(aliceName, "lost push", "now");
    (await ctl.next()).settle(false);
    const got = (await inbox.check()).messages;
    expect(got.map((m) => m.messageId)).toEqual([sent.messageId]);
    expect((await inbox.check()).messages).toEqual([]);
  });

  test("before the MCP client is initialized nothing is pushed; what check_messages took is not pushed later", async () => {
    const { alice, bob, ctl, inbox, aliceName } = await pair();
    const first = await bob.messenger.send(aliceName, "early one", "next");
    const second = await bob.messenger.send(aliceName, "early two", "next");
    while (alice.inbox.length < 2) await alice.next();
    expect(ctl.calls).toEqual([]);
    // check_messages takes both; nothing is left to push at start.
    expect((await inbox.check()).messages.map((m) => m.messageId)).toEqual([first.messageId, second.messageId]);
    inbox.start();
    const third = await bob.messenger.send(aliceName, "after start", "next");
    expect((await ctl.next()).m.messageId).toBe(third.messageId);
    expect(ctl.calls.map((c) => c.m.text)).toEqual(["after start"]);
  });

  test("a backlog is handed out in parts, oldest first: each message once, the rest left for the next call", async () => {
    const { alice, bob, ctl, inbox, aliceName } = await pair();
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push((await bob.messenger.send(aliceName, `low ${i}`, "low")).messageId);
    // before initialization, so two `next` ones wait to be pushed at start: what a check takes is not
    for (let i = 0; i < 2; i++) sent.push((await bob.messenger.send(aliceName, `next ${i}`, "next")).messageId);
    // the broker pushes the `next` ones; the `low` ones it holds until a check fetches them
    while (alice.inbox.length < 2) await alice.next();
    const parts: string[][] = [];
    for (;;) {
      const { messages, left } = await inbox.check({ take: () => 2 });
      parts.push(messages.map((m) => m.messageId));
      if (left === 0) break;
      expect(left).toBe(7 - parts.flat().length);
    }
    expect(parts.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    expect(parts.flat()).toEqual(sent);
    // at least one is handed out, whatever `take` says: a message too big for any part still arrives
    const big = await bob.messenger.send(aliceName, "x".repeat(1000), "low");
    expect((await inbox.check({ take: () => 0 })).messages.map((m) => m.messageId)).toEqual([big.messageId]);
    inbox.start();
    await alice.client.request({ type: "list_peers" }, "peers_list");
    expect(ctl.calls).toEqual([]);
    expect((await inbox.check()).messages).toEqual([]);
  });

  test("messages that arrive before initialization are pushed once it completes", async () => {
    const { alice, bob, ctl, inbox, aliceName } = await pair();
    const early = await bob.messenger.send(aliceName, "waiting for init", "next");
    await alice.next();
    inbox.start();
    const call = await ctl.next();
    expect(call.m.messageId).toBe(early.messageId);
    call.settle(true);
  });
});
