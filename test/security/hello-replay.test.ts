import { afterEach, describe, expect, test } from "bun:test";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { backends } from "../helpers/backends.ts";
import { waitUntil } from "../helpers/wait.ts";
import { addMember, closeClients, connect, createMesh, helloFrame, rawSocket, startTestBroker, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";

/** What an attacker who captured one hello off the wire can do with it: nothing. */
describe.each(backends())("hello replay and tampering on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "replay");
  });
  afterEach(() => closeClients());

  /** A victim session that said hello on a raw socket, and the exact frame it sent. */
  async function victim(name: string) {
    const member = await addMember(b, mesh, name);
    const s = await rawSocket(b);
    const frame = {
      ...helloFrame(member, s.challenge, { displayName: name, groups: [{ name: "ops", role: "lead" }], status: "working", cwd: "/home/v", pid: 42 }),
      id: "v",
    };
    s.ws.send(JSON.stringify(frame));
    expect(await s.next()).toMatchObject({ type: "hello_ack", id: "v" });
    return { member, s, frame };
  }

  async function replay(frame: unknown) {
    const s = await rawSocket(b);
    s.ws.send(JSON.stringify(frame));
    return { reply: await s.next(), closed: s.closed, s };
  }

  test("every socket gets its own fresh 32-byte challenge first", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const s = await rawSocket(b);
      expect(Buffer.from(s.challenge, "base64")).toHaveLength(32);
      seen.add(s.challenge);
      s.ws.close();
    }
    expect(seen.size).toBe(5);
  });

  test("a captured hello replayed while the original is live: bad_challenge, closed, the original untouched", async () => {
    const v = await victim("Victim");
    const { reply, closed } = await replay(v.frame);
    expect(reply).toMatchObject({ type: "error", code: "bad_challenge" });
    expect(await closed).toBe(4001);
    // The victim was not evicted (4002) and still gets answers.
    v.s.ws.send(JSON.stringify({ type: "list_peers", id: "still" }));
    const peers = await v.s.next((f) => f.id === "still");
    expect(peers.type).toBe("peers_list");
    expect(peers.peers.filter((p: { name: string }) => p.name === "Victim")).toHaveLength(1);
    expect(v.s.ws.readyState).toBe(WebSocket.OPEN);
  });

  test("a captured hello replayed after the original closed: bad_challenge", async () => {
    const v = await victim("Gone");
    v.s.ws.close();
    await v.s.closed;
    await waitUntil("the victim's session to end", () => (b.broker.peersOf(mesh.meshId).some((p) => p.displayName === "Gone") ? undefined : true));
    const { reply, closed } = await replay(v.frame);
    expect(reply).toMatchObject({ type: "error", code: "bad_challenge" });
    expect(await closed).toBe(4001);
  });

  test("a captured hello re-pointed at the new socket's challenge fails the signature", async () => {
    const v = await victim("Repointed");
    const s = await rawSocket(b);
    s.ws.send(JSON.stringify({ ...v.frame, challenge: s.challenge }));
    expect(await s.next()).toMatchObject({ type: "error", code: "bad_member_signature" });
    expect(await s.closed).toBe(4001);
  });

  test.each([
    ["displayName", "Impostor"],
    ["role", "admin"],
    [
      "groups",
      [
        { name: "ops", role: "lead" },
        { name: "secret", role: null },
      ],
    ],
    ["status", "idle"],
    ["sessionId", "other-session"],
    ["pid", 43],
    ["cwd", "/elsewhere"],
    ["timestamp", "+1"],
  ] as const)("changing %s of a freshly signed hello is refused (bad_member_signature)", async (field, value) => {
    const member = await addMember(b, mesh, `T-${field}`);
    const s = await rawSocket(b);
    const frame: Record<string, unknown> = helloFrame(member, s.challenge, {
      displayName: `T-${field}`,
      role: "dev",
      groups: [{ name: "ops", role: "lead" }],
      status: "working",
      sessionId: "s1",
      pid: 42,
      cwd: "/home/t",
    });
    frame[field] = value === "+1" ? (frame.timestamp as number) + 1 : value;
    s.ws.send(JSON.stringify(frame));
    expect(await s.next()).toMatchObject({ type: "error", code: "bad_member_signature" });
    expect(await s.closed).toBe(4001);
  });

  test("a hello without a challenge is invalid; the session-key signature covers the same bytes", async () => {
    const member = await addMember(b, mesh, "NoChallenge");
    const s = await rawSocket(b);
    const { challenge: _c, ...frame } = helloFrame(member, s.challenge);
    s.ws.send(JSON.stringify(frame));
    expect(await s.next()).toMatchObject({ type: "error", code: "invalid_frame" });
    // A valid member signature with a session signature made by another key is refused.
    const s2 = await rawSocket(b);
    const good = helloFrame(member, s2.challenge);
    const other = helloFrame(member, s2.challenge, {}, generateSigningKeyPair());
    s2.ws.send(JSON.stringify({ ...good, sessionSignature: other.sessionSignature }));
    expect(await s2.next()).toMatchObject({ type: "error", code: "bad_session_signature" });
  });

  test("the real client waits for the challenge and authenticates", async () => {
    const member = await addMember(b, mesh, "Client");
    const c = await connect(member, {
      groups: [
        { name: "b", role: null },
        { name: "a", role: "x" },
      ],
      role: "dev",
    });
    expect(c.ack?.displayName).toBe("Client");
  });
});
