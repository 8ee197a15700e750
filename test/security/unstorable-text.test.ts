import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { MeshConfig } from "../../src/client/config.ts";
import { backends } from "../helpers/backends.ts";
import { addMember, createMesh, helloFrame, type RawSocket, rawSocket, startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { clientFrames } from "../protocol/arbitraries.ts";

/** Every string in a frame but its type, by path: each is one place a client can put text. */
function stringPaths(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof v === "string") return path.length === 1 && path[0] === "type" ? [] : [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringPaths(x, [...path, i]));
  if (v !== null && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => stringPaths(x, [...path, k]));
  return [];
}

function withText(frame: unknown, path: (string | number)[], edit: (s: string) => string): Record<string, unknown> {
  const copy = structuredClone(frame) as Record<string, unknown>;
  let at: any = copy;
  for (const k of path.slice(0, -1)) at = at[k];
  const last = path[path.length - 1] as string | number;
  at[last] = edit(at[last]);
  return copy;
}

// Text Postgres refuses (NUL) or cannot keep (a lone surrogate): a client's mistake on every backend.
const UNSTORABLE: [string, (s: string) => string][] = [
  ["a NUL", (s) => `${s}\u0000`],
  ["a lone surrogate", (s) => `\ud800${s}`],
];

describe.each(backends())("text no store could hold, in every string of every frame, on %s", (backend) => {
  let b: TestBroker;
  let member: MeshConfig;
  suiteFixture(async (stack) => {
    b = stack.use(await startTestBroker(backend, { frameRatePerSec: 100_000, memberFrameRatePerSec: 100_000, sendRatePerSec: 100_000 }));
    const mesh = await createMesh(b, "unstorable");
    member = await addMember(b, mesh, "Texter");
    await addMember(b, mesh, "Bob");
  });

  let open: RawSocket | null = null;
  /** An authenticated socket, the same one while the broker keeps it open. */
  async function authed(): Promise<RawSocket> {
    if (open && open.ws.readyState === WebSocket.OPEN) return open;
    const s = await rawSocket(b);
    s.ws.send(JSON.stringify({ ...helloFrame(member, s.challenge), id: "auth" }));
    const ack = await s.next((f) => f.id === "auth");
    expect(`${ack.type} ${ack.code ?? ""}`).toBe("hello_ack ");
    open = s;
    return s;
  }

  /** Sends `frame`, then a probe: what came back in between is the frame's answer (frames are handled in order). */
  async function answersTo(hello: boolean, frame: (challenge: string) => Record<string, unknown>) {
    const s = hello ? await rawSocket(b) : await authed();
    const before = s.frames.length;
    s.ws.send(JSON.stringify(frame(s.challenge)));
    const probe = `probe-${++probes}`;
    s.ws.send(JSON.stringify({ type: "list_peers", id: probe }));
    await Promise.race([s.next((f) => f.id === probe), s.closed]);
    if (hello) s.ws.close();
    return s.frames.slice(before).filter((f) => f.id !== probe);
  }
  let probes = 0;

  for (const [type, arb] of Object.entries(clientFrames)) {
    test(`${type}: every string field with a NUL or a lone surrogate gets the client's error, never an internal one`, async () => {
      // a hello that would be accepted but for the one field (its challenge is the socket's own)
      const hello = type === "hello";
      const [generated] = fc.sample(arb, { numRuns: 1, seed: 13 });
      // every frame has a string to spoil: its id, if the sample did not give it one
      const base = (challenge: string) => (hello ? { ...helloFrame(member, challenge), id: "h" } : { id: "f", ...(generated as Record<string, unknown>) });
      const paths = stringPaths(base(Buffer.alloc(32).toString("base64")));
      expect(paths.length).toBeGreaterThan(0);
      for (const path of paths) {
        for (const [what, edit] of UNSTORABLE) {
          const answers = await answersTo(hello, (challenge) => withText(base(challenge), path, edit));
          for (const a of answers) if (a.type === "error") expect(`${path.join(".")} with ${what}: ${a.code}`).not.toEndWith(": internal");
        }
      }
    });
  }
});
