import fc from "fast-check";
import { b64 } from "../../src/crypto/encoding.ts";

/** fast-check generators of valid frames, one per frame type; the property test checks none is missing. */
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(b64.encode);
const key = bytes(32);
const sig = bytes(64);
const nonce = bytes(24);
const cipher = fc.uint8Array({ minLength: 1, maxLength: 200 }).map(b64.encode);
const id = fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined });
const text = (max = 60) => fc.string({ maxLength: max });
const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _.-]{0,20}$/).map((s) => s.trim() || "x");
const groupName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/);
const role = fc.stringMatching(/^[a-z]{1,10}$/);
const status = fc.constantFrom("idle" as const, "working" as const, "dnd" as const);
const priority = fc.constantFrom("now" as const, "next" as const, "low" as const);
const ts = fc.integer({ min: 0, max: 2 ** 45 });
const brokerUrl = fc.webUrl({ validSchemes: ["http", "https"] });
const membership = fc.record({ name: groupName, role: fc.option(role, { nil: null }) });
const target = fc.oneof(
  name,
  groupName.map((g) => `@${g}`),
  fc.constantFrom("*", "@all"),
);
const errorCode = fc.constantFrom("bad_json" as const, "unknown_target" as const, "internal" as const, "rate_limited" as const, "busy" as const);
/** Any JSON value, normalised through JSON (so -0 is 0, as it is on the wire). */
const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const stateEntry = fc.record({ key: text(40).filter((s) => s.length > 0), value: json, updatedBy: name, updatedAt: ts });
const memory = fc.record({
  id: text(20),
  content: text(200),
  tags: fc.array(role, { maxLength: 4 }),
  rememberedBy: name,
  rememberedAt: ts,
  score: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => JSON.parse(JSON.stringify(x)) as number),
});
const withId = <T extends object>(arb: fc.Arbitrary<T>) => fc.tuple(arb, id).map(([f, i]) => (i === undefined ? f : { ...f, id: i }));
const push = fc.record({
  messageId: text(20),
  meshId: text(20),
  senderName: name,
  senderPubkey: key,
  senderMemberId: text(20),
  senderMemberName: name,
  priority,
  kind: fc.constantFrom("direct" as const, "group" as const),
  to: text(30),
  nonce,
  ciphertext: cipher,
  createdAt: ts,
  lowPending: fc.nat(100),
});

export const clientFrames: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  hello: withId(
    fc.record(
      {
        type: fc.constant("hello"),
        challenge: key,
        meshId: text(30).filter((s) => s.length > 0),
        memberId: text(30).filter((s) => s.length > 0),
        pubkey: key,
        sessionPubkey: key,
        displayName: name,
        role,
        groups: fc.oneof(
          fc.array(membership, { maxLength: 5 }),
          fc.array(fc.tuple(groupName, fc.option(role)), { maxLength: 4 }).map((gs) => gs.map(([g, r]) => (r ? `${g}:${r}` : g)).join(",")),
        ),
        status,
        sessionId: text(30),
        pid: fc.nat(100000),
        cwd: text(60),
        timestamp: ts,
        signature: sig,
        delegation: fc.record({ expiresAt: ts, signature: sig }),
        sessionSignature: sig,
      },
      { requiredKeys: ["type", "challenge", "meshId", "memberId", "pubkey", "sessionPubkey", "timestamp", "sessionSignature"] },
    ),
  ),
  list_peers: withId(fc.record({ type: fc.constant("list_peers"), group: groupName }, { requiredKeys: ["type"] })),
  set_status: withId(fc.record({ type: fc.constant("set_status"), status })),
  set_summary: withId(fc.record({ type: fc.constant("set_summary"), summary: text(200) })),
  join_group: withId(fc.record({ type: fc.constant("join_group"), name: groupName, role }, { requiredKeys: ["type", "name"] })),
  leave_group: withId(fc.record({ type: fc.constant("leave_group"), name: groupName })),
  send: withId(
    fc.oneof(
      fc.record({
        type: fc.constant("send"),
        clientId: text(30).filter((s) => s.length > 0),
        to: fc.oneof(name, fc.array(name, { minLength: 1, maxLength: 5 })),
        priority,
        kind: fc.constant("direct"),
        envelopes: fc.array(fc.record({ sessionPubkey: key, nonce, ciphertext: cipher }), { maxLength: 4 }),
      }),
      fc.record({
        type: fc.constant("send"),
        clientId: text(30).filter((s) => s.length > 0),
        to: fc.oneof(target, fc.array(target, { minLength: 1, maxLength: 5 })),
        priority,
        kind: fc.constant("group"),
        group: fc.record({ nonce, ciphertext: cipher }),
      }),
    ),
  ),
  received: withId(
    fc.record({
      type: fc.constant("received"),
      messageIds: fc.array(
        text(20).filter((s) => s.length > 0),
        { minLength: 1, maxLength: 5 },
      ),
    }),
  ),
  surfaced: withId(
    fc.record({
      type: fc.constant("surfaced"),
      messageIds: fc.array(
        text(20).filter((s) => s.length > 0),
        { minLength: 1, maxLength: 5 },
      ),
    }),
  ),
  fetch_queued: withId(fc.record({ type: fc.constant("fetch_queued"), maxChars: fc.integer({ min: 1, max: 1 << 24 }) }, { requiredKeys: ["type"] })),
  message_status: withId(fc.record({ type: fc.constant("message_status"), messageId: text(20).filter((s) => s.length > 0) })),
  set_state: withId(fc.record({ type: fc.constant("set_state"), key: text(40).filter((s) => s.length > 0), value: json })),
  get_state: withId(fc.record({ type: fc.constant("get_state"), key: text(40).filter((s) => s.length > 0) })),
  list_state: withId(fc.record({ type: fc.constant("list_state") })),
  remember: withId(
    fc.record({ type: fc.constant("remember"), content: text(200), tags: fc.array(role, { maxLength: 4 }) }, { requiredKeys: ["type", "content"] }),
  ),
  recall: withId(
    fc.record(
      { type: fc.constant("recall"), query: text(100), tags: fc.array(role, { maxLength: 3 }), limit: fc.integer({ min: 1, max: 50 }) },
      { requiredKeys: ["type", "query"] },
    ),
  ),
  forget: withId(fc.record({ type: fc.constant("forget"), memoryId: text(20).filter((s) => s.length > 0) })),
};

export const serverFrames: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  challenge: fc.record({ type: fc.constant("challenge"), challenge: key }),
  hello_ack: withId(
    fc.record({
      type: fc.constant("hello_ack"),
      presenceId: text(20),
      meshId: text(20),
      meshSlug: text(20),
      memberId: text(20),
      memberDisplayName: name,
      displayName: name,
      token: text(40),
      tokenExpiresAt: ts,
      serverTime: ts,
      brokers: fc.option(fc.array(brokerUrl, { maxLength: 4 }), { nil: undefined }),
    }),
  ),
  peers_list: withId(
    fc.record({
      type: fc.constant("peers_list"),
      peers: fc.array(
        fc.record({
          name,
          status,
          role: fc.option(role, { nil: null }),
          groups: fc.array(membership, { maxLength: 3 }),
          summary: fc.option(text(100), { nil: null }),
          sessionPubkey: key,
          memberId: text(20),
          memberName: name,
          presenceId: text(20),
          connectedAt: ts,
          self: fc.boolean(),
        }),
        { maxLength: 4 },
      ),
    }),
  ),
  error: withId(
    fc.record(
      { type: fc.constant("error"), code: errorCode, message: text(80), retryAfterMs: fc.nat({ max: 3_600_000 }) },
      { requiredKeys: ["type", "code", "message"] },
    ),
  ),
  ok: withId(fc.record({ type: fc.constant("ok") })),
  ack: withId(
    fc.record({
      type: fc.constant("ack"),
      clientId: text(20),
      messageId: text(20),
      recipients: fc.array(fc.record({ name, sessionPubkey: key }), { maxLength: 4 }),
      duplicate: fc.boolean(),
    }),
  ),
  push: push.map((p) => ({ type: "push", ...p })),
  queued_messages: withId(
    fc.record({ type: fc.constant("queued_messages"), messages: fc.array(push, { maxLength: 3 }), more: fc.nat(1000) }, { requiredKeys: ["type", "messages"] }),
  ),
  message_status_result: withId(
    fc.record({
      type: fc.constant("message_status_result"),
      messageId: text(20),
      delivered: fc.boolean(),
      recipients: fc.array(
        fc.record({
          name,
          sessionPubkey: key,
          status: fc.constantFrom("queued" as const, "delivered" as const, "surfaced" as const, "expired" as const),
          queuedAt: ts,
          deliveredAt: fc.option(ts, { nil: null }),
          surfacedAt: fc.option(ts, { nil: null }),
          expiredAt: fc.option(ts, { nil: null }),
        }),
        { maxLength: 3 },
      ),
    }),
  ),
  state_result: withId(
    fc.record({
      type: fc.constant("state_result"),
      key: text(40),
      value: json,
      found: fc.boolean(),
      updatedBy: fc.option(name, { nil: null }),
      updatedAt: fc.option(ts, { nil: null }),
    }),
  ),
  state_list: withId(fc.record({ type: fc.constant("state_list"), entries: fc.array(stateEntry, { maxLength: 4 }) })),
  state_change: stateEntry.map((e) => ({ type: "state_change", ...e })),
  memory_stored: withId(fc.record({ type: fc.constant("memory_stored"), memoryId: text(20) })),
  memory_results: withId(fc.record({ type: fc.constant("memory_results"), memories: fc.array(memory, { maxLength: 4 }) })),
};

/** Keys a JSON value can carry that change how JavaScript converts or copies the object holding them. */
const POISON = ["toString", "valueOf", "toJSON", "__proto__", "constructor", "then", "length", "type"];
/**
 * Hostile JSON: objects whose keys are chosen to break `String()`, template literals, spreads and
 * thenables (`{"toString":1}` makes `String(o)` throw), at any depth; `.object` always an object.
 */
export const poisoned = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 1 }),
    // the shapes that broke a conversion before: zod compares any `length` with a number
    fc.constantFrom({ toString: 1 }, { valueOf: [] }, { length: { toString: 1 } }, { length: { valueOf: {} } }, [{ toString: 1 }]),
    tie("object"),
    fc.array(tie("value"), { maxLength: 3 }),
  ),
  object: fc.dictionary(fc.oneof(fc.constantFrom(...POISON), fc.string({ maxLength: 8 })), tie("value"), { maxKeys: 4 }),
}));

/** Text of any UTF-16 code units: NUL (which Postgres refuses in text) and lone surrogates among them. */
export const anyUnits = fc.string({ unit: "binary", maxLength: 12 }).map((s) => (s.length % 3 === 0 ? `${s}\u0000` : s.length % 3 === 1 ? `\ud800${s}` : s));
