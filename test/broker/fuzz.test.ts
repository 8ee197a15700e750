import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ClientFrame, ServerFrame } from "../../src/protocol/frames.ts";
import { addMember, createMesh, helloFrame, rawSocket, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { backends } from "../helpers/backends.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { messagingPeer, type TestPeer } from "../helpers/messaging.ts";
import type { MeshConfig } from "../../src/client/config.ts";
import { anyUnits, clientFrames, poisoned } from "../protocol/arbitraries.ts";

/** Mutations of a valid frame: drop a field, retype a field, change the type, nest junk. */
const mutated = fc
  .tuple(
    fc.oneof(...Object.values(clientFrames)),
    fc.nat(),
    fc.oneof(fc.anything({ maxDepth: 3 }), poisoned.value, anyUnits),
    fc.string({ maxLength: 20 }),
    fc.nat(4),
  )
  .map(([frame, pick, junk, str, how]) => {
    const f: Record<string, unknown> = { ...frame };
    const keys = Object.keys(f);
    const k = keys[pick % keys.length] as string;
    if (how === 0) delete f[k];
    else if (how === 1) f[k] = junk;
    else if (how === 2) f.type = str;
    else if (how === 3) f[str || "extra"] = junk;
    else f[k] = { nested: junk };
    return JSON.stringify(f);
  });

const junk = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  poisoned.object.map((v) => JSON.stringify(v)),
  fc.constantFrom('{"type":{"toString":1}}', '{"type":[{"valueOf":1}]}', '{"type":"send","to":{"toString":1},"id":{"toString":1}}'),
  fc.constantFrom("", "{", "null", "[]", '{"type":null}', '{"type":"__proto__"}', '{"__proto__":{"type":"hello"}}', '{"type":"send","to":[]}', "\u0000\uffff"),
  mutated,
  mutated,
);

function isSilentReceipt(payload: unknown): boolean {
  if (typeof payload !== "string") return false;
  try {
    const f = ClientFrame.safeParse(JSON.parse(payload));
    return f.success && (f.data.type === "received" || f.data.type === "surfaced") && f.data.id === undefined;
  } catch {
    return false;
  }
}

describe.each(backends())("fuzzing a live broker on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let fuzzMember: MeshConfig;
  let good: TestPeer;
  let partner: TestPeer;

  suiteFixture(async (stack) => {
    b = stack.use(
      await startTestBroker(backend, { frameRatePerSec: 100_000, memberFrameRatePerSec: 100_000, sendRatePerSec: 100_000, maxFrameBytes: 64 * 1024 }),
    );
    mesh = await createMesh(b, "fuzz");
    fuzzMember = await addMember(b, mesh, "Fuzzer");
    good = await messagingPeer(await addMember(b, mesh, "Good"));
    partner = await messagingPeer(await addMember(b, mesh, "Partner"));
  });

  async function fuzzSocket(authenticate: boolean) {
    const s = await rawSocket(b);
    if (authenticate) {
      s.ws.send(JSON.stringify({ ...helloFrame(fuzzMember, s.challenge), id: "auth" }));
      expect((await s.next((f) => f.id === "auth")).type).toBe("hello_ack");
    }
    return s;
  }

  for (const authenticated of [false, true]) {
    test(`${authenticated ? "authenticated" : "unauthenticated"} socket: every junk frame gets a structured answer; the broker keeps serving`, async () => {
      let s = await fuzzSocket(authenticated);
      let probe = 0;
      let answered = 0;
      await fc.assert(
        fc.asyncProperty(junk, async (payload) => {
          if (s.ws.readyState !== WebSocket.OPEN) s = await fuzzSocket(authenticated);
          const before = s.frames.length;
          s.ws.send(payload);
          // A valid probe right after: once its answer is here, the junk frame's answer is too (frames are handled in order).
          const pid = `probe-${++probe}`;
          s.ws.send(JSON.stringify({ type: "list_peers", id: pid }));
          const reply = await Promise.race([s.next((f) => f.id === pid), s.closed.then(() => null)]);
          const answers = s.frames.slice(before).filter((f) => f.id !== pid);
          for (const a of answers) {
            expect(ServerFrame.safeParse(a).success).toBe(true);
            if (a.type === "error") expect(typeof a.code === "string" && typeof a.message === "string").toBe(true);
            // junk is the client's fault, and the answer says so: never the broker's own failure
            if (a.type === "error") expect(a.code).not.toBe("internal");
          }
          if (reply === null) {
            // only a hello attempt may end an unauthenticated socket, and it must have said why first
            expect(authenticated).toBe(false);
            expect(answers.some((a) => a.type === "error")).toBe(true);
            return;
          }
          // Receipts without an id are fire-and-forget when valid; everything else is answered.
          if (!isSilentReceipt(payload)) expect(answers.length).toBeGreaterThanOrEqual(1);
          answered++;
          if (!authenticated) expect(reply).toMatchObject({ type: "error", code: "not_authenticated" });
        }),
        { numRuns: 300 },
      );
      expect(answered).toBeGreaterThan(100);
      // The well-behaved pair still talks, exactly once per message.
      const sent = await good.messenger.send("Partner", "still alive", "now");
      // Valid fuzzed sends (to "*", say) may reach Partner too; ours must arrive, exactly once.
      while ((await partner.next()).messageId !== sent.messageId);
      expect(partner.inbox.filter((m) => m.messageId === sent.messageId)).toHaveLength(1);
      expect(b.broker.connectionCount()).toBeLessThan(20);
    });
  }

  test("an oversized frame gets frame_too_large and changes nothing", async () => {
    const s = await fuzzSocket(true);
    s.ws.send(JSON.stringify({ type: "set_summary", id: "big", summary: "x".repeat(100 * 1024) }));
    expect(await s.next((f) => f.id === "big")).toMatchObject({ type: "error", code: "frame_too_large" });
  });
});
