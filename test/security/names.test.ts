import { ManualClock } from "../../src/util/clock.ts";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { brokerRequest } from "../../src/client/http.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { CreateMeshResponse, InviteResponse, JoinResponse } from "../../src/meshes/api.ts";
import { toCallResult } from "../../src/mcp/registry.ts";
import { presenceTools } from "../../src/presence/tools.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import {
  addMember,
  closeClients,
  connect,
  createMesh,
  helloFrame,
  outcome,
  rawSocket,
  startTestBroker,
  type TestBroker,
  type TestMesh,
} from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { recordFrames } from "../helpers/frames.ts";
import { toolbox } from "../helpers/tools.ts";
import { waitUntil } from "../helpers/wait.ts";

/** One of each class of character a name may not hold. */
const HOSTILE: Record<string, string> = {
  NUL: "\u0000",
  BEL: "\u0007",
  ESC: "\u001b[2J",
  newline: "\n",
  DEL: "\u007f",
  "C1 CSI": "\u009b",
  "bidi override RLO": "\u202e",
  "bidi isolate RLI": "\u2067",
  "right-to-left mark": "\u200f",
  "arabic letter mark": "\u061c",
  "zero-width space": "\u200b",
  "zero-width joiner": "\u200d",
  "word joiner": "\u2060",
  BOM: "\ufeff",
  "line separator": "\u2028",
};
/** Raw bytes that must never reach a terminal from our output. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

describe.each(backends())("names on %s", (backend) => {
  let b: TestBroker;
  let mesh: TestMesh;
  let token: string;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend));
    mesh = await createMesh(b, "names");
    token = (await brokerRequest(b.url, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, { auth: { kind: "admin", token: b.adminToken }, body: {} }))
      .token;
  });
  afterEach(() => closeClients());

  const joinAs = (displayName: string) =>
    outcome(brokerRequest(b.url, "POST", "/join", JoinResponse, { body: { token, pubkey: generateSigningKeyPair().publicKey, displayName } }));

  test.each(Object.entries(HOSTILE))("a name with %s is refused at every boundary, with a clear error", async (_what, c) => {
    const bad = `Mal${c}lory`;
    expect(await joinAs(bad)).toBe("invalid_frame");
    expect(
      await outcome(
        brokerRequest(b.url, "POST", "/admin/meshes", CreateMeshResponse, {
          auth: { kind: "admin", token: b.adminToken },
          body: { slug: `names-x-${Math.random().toString(36).slice(2, 8)}`, ownerPubkey: generateSigningKeyPair().publicKey, ownerName: bad },
        }),
      ),
    ).toBe("invalid_frame");
    const member = await addMember(b, mesh, `clean-${Math.random().toString(36).slice(2, 8)}`);
    // hello: displayName and role (signed correctly, so only the schema refuses them)
    for (const field of ["displayName", "role"] as const) {
      const s = await rawSocket(b);
      const frame = { ...helloFrame(member, s.challenge), [field]: bad };
      s.ws.send(JSON.stringify(frame));
      const reply = await s.next();
      expect(reply).toMatchObject({ type: "error", code: "invalid_frame" });
      expect(reply.message).toContain("control characters");
    }
    // a group role at hello and at join_group
    const s = await rawSocket(b);
    s.ws.send(JSON.stringify({ ...helloFrame(member, s.challenge), groups: [{ name: "ops", role: bad }] }));
    expect(await s.next()).toMatchObject({ type: "error", code: "invalid_frame" });
    const c1 = await connect(member);
    expect(await outcome(c1.request({ type: "join_group", name: "ops", role: bad }))).toBe("invalid_frame");
    expect(await outcome(c1.request({ type: "join_group", name: `op${c}s` }))).toBe("invalid_frame");
    // the real client refuses to send one at all
    expect(await outcome(connect(member, { displayName: bad }))).toBe("invalid_argument");
  });

  test("ordinary non-ASCII names are fine", async () => {
    for (const name of ["Zoë", "渡辺", "Алиса", "O'Brien-Smith", "🙂 Bot"]) expect(await joinAs(name)).toBe("ok");
  });

  test("a live session's name cannot be taken by another member; the same member may share it", async () => {
    const alice = await addMember(b, mesh, "Alice");
    const mallory = await addMember(b, mesh, "Mallory");
    const a1 = await connect(alice, { displayName: "Lead" });
    const squat = await rawSocket(b);
    squat.ws.send(JSON.stringify({ ...helloFrame(mallory, squat.challenge, { displayName: "Lead" }), id: "sq" }));
    const refused = await squat.next();
    expect(refused).toMatchObject({ type: "error", code: "name_taken", id: "sq" });
    // naming nothing secret: not who holds it, not their keys or ids
    expect(refused.message).not.toContain(alice.memberId);
    expect(refused.message).not.toContain("Alice");
    expect(refused.message).not.toContain(a1.sessionPubkey);
    expect(await squat.closed).toBe(4001);
    // Alice's second terminal may use the same name
    const a2 = await connect(alice, { displayName: "Lead" });
    expect(a2.ack?.displayName).toBe("Lead");
    // once all of Alice's sessions are gone, the name is free again
    a1.close();
    a2.close();
    await waitUntil("Alice's sessions to end", () => (b.broker.peersOf(mesh.meshId).some((p) => p.displayName === "Lead") ? undefined : true));
    expect((await connect(mallory, { displayName: "Lead" })).ack?.displayName).toBe("Lead");
  });

  test("a name squatted while its session was away does not end that session: it retries and comes back", async () => {
    const owner = await addMember(b, mesh, "Owner of Desk");
    const squatter = await addMember(b, mesh, "Squatter");
    // the reconnect waits on a clock the test moves: it comes only once the squatter holds the name
    const clock = new ManualClock();
    const a = await connect(owner, { displayName: "Desk", backoff: { minMs: 2_000, maxMs: 2_000 }, timers: clock });
    let fatal = false;
    a.on("fatal", () => void (fatal = true));
    /** moves the client's clock until `event` happened (its waits, whichever they are, end) */
    const until = async <T>(event: Promise<T>): Promise<T> => {
      let done = false;
      void event.then(() => void (done = true));
      while (!done) {
        clock.advance(2_000);
        await Bun.sleep(5);
      }
      return event;
    };
    const waiting = clock.nextSleep();
    a.dropConnection();
    await waiting;
    await waitUntil("the dropped session to end", () => (b.broker.peersOf(mesh.meshId).some((p) => p.displayName === "Desk") ? undefined : true));
    const s = await connect(squatter, { displayName: "Desk" });
    const [refusal] = await until(a.once("retrying"));
    expect(refusal.code).toBe("name_taken");
    const back = a.once("connected");
    s.close();
    const [ack, reconnect] = await until(back);
    expect({ name: ack.displayName, reconnect, fatal }).toEqual({ name: "Desk", reconnect: true, fatal: false });
  });

  test("pushes and list_peers carry the sender's enrolled member name, whatever the session calls itself", async () => {
    const bob = await addMember(b, mesh, "Bob");
    const carol = await addMember(b, mesh, "Carol");
    const cb = await connect(bob, { displayName: "Reviewer" });
    const cc = await connect(carol);
    const log = recordFrames(cc);
    const peers = await cc.request({ type: "list_peers" }, "peers_list");
    expect(peers.peers.find((p) => p.name === "Reviewer")).toMatchObject({ memberName: "Bob", memberId: bob.memberId });
    await cb.request({ type: "send", clientId: "c1", to: "*", priority: "now", kind: "group", group: { nonce: "A".repeat(32), ciphertext: "aGk=" } });
    const push = await log.waitFor("push");
    expect(push).toMatchObject({ senderName: "Reviewer", senderMemberName: "Bob", senderMemberId: bob.memberId });
    const { call } = toolbox(presenceTools);
    const listed = await call({ client: cc }, "list_peers", {});
    expect(listed.text).toContain("Reviewer (member Bob)");
  });

  test("a hostile name already stored is neutralised in MCP tool output and in the compiled CLI's tables", async () => {
    const evil = await addMember(b, mesh, "Evil");
    const hostile = "Ev\u001b[31mil\u0007\u202eEXE.txt\u200b";
    await b.store.sql`UPDATE member SET display_name = ${hostile} WHERE id = ${evil.memberId}`;
    // a session without a displayName of its own takes the stored one
    await connect(evil, { displayName: undefined });
    const viewer = await connect(await addMember(b, mesh, "Viewer"));
    const { call } = toolbox(presenceTools);
    const result = toCallResult(await call({ client: viewer }, "list_peers", {}));
    const strings: string[] = [];
    const collect = (v: unknown): void => {
      if (typeof v === "string") strings.push(v);
      else if (v && typeof v === "object") for (const x of Object.values(v)) collect(x);
    };
    collect(result);
    expect(strings.filter((x) => RAW.test(x))).toEqual([]);
    expect((result.content[0] as { text: string }).text).toContain("Ev\\u001b[31mil");
    expect((result.structuredContent as { peers: { name: string }[] }).peers.map((p) => p.name)).toContain("Ev\\u001b[31mil\\u0007\\u202eEXE.txt\\u200b");

    const home = tempDir("cm-home-names-");
    try {
      writeSecretFile(join(home.path, "config.json"), JSON.stringify({ version: 1, meshes: [mesh.owner] }));
      const bin = await ensureBinary();
      const p = Bun.spawn([bin, "members", mesh.slug], {
        env: { ...process.env, CLAUDEMESH_HOME: home.path },
        stdout: "pipe",
        stderr: "pipe",
        stdin: "ignore",
      });
      const [stdout, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), p.exited]);
      const text = new TextDecoder().decode(stdout);
      expect(code).toBe(0);
      expect(new Uint8Array(stdout).includes(0x1b)).toBe(false);
      expect(text).not.toMatch(RAW);
      expect(text).toContain("Ev\\u001b[31mil\\u0007\\u202eEXE.txt\\u200b");
    } finally {
      home.cleanup();
    }
  });
});
