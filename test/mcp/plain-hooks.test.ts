/**
 * Plain `claude` after `install`: no session dir, so the mcp process serves its hook socket at a path named
 * after its parent (Claude Code), and `claudemesh hook` finds it from its own parent chain. Claude Code is
 * played by test/mcp/fixtures/fake-claude.ts, so the mcp process's parent is not the test runner.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { isPrivateDir, MAX_SOCKET_PATH, parentPid, pidSocket, sweepDeadSockets } from "../../src/session/claude-socket.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";
import { addMember, createMesh, type TestMesh } from "../helpers/broker.ts";
import { messagingPeer, type TestPeer } from "../helpers/messaging.ts";
import { waitUntil } from "../helpers/wait.ts";
import { baseEnv, configHome, type McpHandle, mcpSuite, runHook, startFakeClaude } from "./helpers.ts";

const silentOk = { code: 0, stdout: "", stderr: "" };
const uid = process.getuid?.() as number;

const selfStatus = async (mcp: McpHandle) => (await mcp.call("list_peers")).data.peers.find((p: { self: boolean }) => p.self).status as string;

describe("plain `claude`: hooks reach the mcp process through Claude Code's pid", () => {
  const suite = mcpSuite();
  let mesh: TestMesh;
  let bob: TestPeer;

  beforeAll(async () => {
    mesh = await createMesh(suite.broker, "plain");
    bob = await messagingPeer(await addMember(suite.broker, mesh, "Bob"));
  });

  /** What Bob, another peer, sees of `name` on the broker. */
  const status = async (name: string) => (await bob.client.request({ type: "list_peers" }, "peers_list")).peers.find((p) => p.name === name)?.status;

  /** A plain session of a new member `name`: its own claudemesh home, its mcp started by a fake claude. */
  async function plainSession(name: string, extra: Record<string, string> = {}, home = configHome([])) {
    const member = await addMember(suite.broker, mesh, name);
    writeMembership(home, member);
    const env = baseEnv({ CLAUDEMESH_HOME: home, ...extra });
    const claude = await startFakeClaude(suite.bin, env);
    await claude.mcp.call("list_peers"); // connected
    return { claude, home, env };
  }

  test("the socket is <home>/run/<claude pid>.sock; hooks run by that claude, directly or via sh -c, change what peers see", async () => {
    const { claude, home, env } = await plainSession("Plain");
    const sock = join(home, "run", `${claude.pid}.sock`);
    expect(claude.pid).not.toBe(process.pid);
    expect(lstatSync(sock).isSocket()).toBe(true);
    expect(statSync(join(home, "run")).mode & 0o777).toBe(0o700);
    expect(await status("Plain")).toBe("idle");

    // Claude Code's shell may exec the hook (child of claude) or fork it (grandchild): both are found.
    expect(await claude.hook("working")).toEqual(silentOk);
    expect(await status("Plain")).toBe("working");
    expect(await claude.hook("idle", { shell: true })).toEqual(silentOk);
    expect(await status("Plain")).toBe("idle");
    const big = JSON.stringify({ session_id: "s", hook_event_name: "PreToolUse", tool_name: "Write", tool_input: { content: "x".repeat(200_000) } });
    expect(await claude.hook("working", { shell: true, stdin: big })).toEqual(silentOk);
    expect(await status("Plain")).toBe("working");

    // A hook whose parent chain (the test runner and its parent) has no socket: silent, fast, no effect.
    expect(existsSync(join(home, "run", `${process.pid}.sock`))).toBe(false);
    const started = performance.now();
    expect(await runHook(suite.bin, "idle", env)).toEqual(silentOk);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(await status("Plain")).toBe("working");

    // Working: a `next` message waits for the Stop hook.
    const held = await bob.messenger.send("Plain", "after your turn", "next");
    const marker = await bob.messenger.send("Plain", "marker", "now");
    await claude.mcp.nextChannel((n) => n.meta.message_id === marker.messageId);
    // Pushes to one session are ordered: had `next` been pushed, it would be here before the marker.
    expect(claude.mcp.channel.some((n) => n.meta.message_id === held.messageId)).toBe(false);
    expect((await bob.messenger.status(held.messageId)).recipients.map((r) => r.status)).toEqual(["queued"]);
    expect(await claude.hook("idle", { shell: true })).toEqual(silentOk);
    expect((await claude.mcp.nextChannel((n) => n.meta.message_id === held.messageId)).content).toContain("after your turn");

    // Claude Code ends the session: the socket goes with the mcp process.
    await claude.mcp.client.close();
    await waitUntil("the socket removed", () => (existsSync(sock) ? undefined : true));
  });

  test("pushes mark the session working only once a hook event has shown that hooks are wired", async () => {
    const { claude } = await plainSession("Unhooked");
    const first = await bob.messenger.send("Unhooked", "one", "next");
    await claude.mcp.nextChannel((n) => n.meta.message_id === first.messageId);
    // Frames of one connection are ordered: a status change the push caused went out before this call.
    expect(await selfStatus(claude.mcp)).toBe("idle");
    expect(await status("Unhooked")).toBe("idle");

    expect(await claude.hook("idle")).toEqual(silentOk);
    const second = await bob.messenger.send("Unhooked", "two", "next");
    await claude.mcp.nextChannel((n) => n.meta.message_id === second.messageId);
    // The push started a turn that fires no UserPromptSubmit; the Stop hook will end it.
    expect(await selfStatus(claude.mcp)).toBe("working");
    expect(await status("Unhooked")).toBe("working");
    expect(await claude.hook("idle", { shell: true })).toEqual(silentOk);
    expect(await status("Unhooked")).toBe("idle");
  });

  test("a socket dir that is no longer private is not trusted by the hook", async () => {
    const { claude, home } = await plainSession("Loose");
    const run = join(home, "run");
    chmodSync(run, 0o755);
    expect(await claude.hook("working")).toEqual(silentOk);
    expect(await status("Loose")).toBe("idle");
    chmodSync(run, 0o700);
    expect(await claude.hook("working")).toEqual(silentOk);
    expect(await status("Loose")).toBe("working");
  });

  test("a home too long for sun_path: the socket is in a private per-user dir under the temp dir", async () => {
    const tmp = tempDir("cm-tmp-");
    try {
      const home = join(configHome([]), "h".repeat(MAX_SOCKET_PATH));
      const { claude } = await plainSession("LongHome", { TMPDIR: tmp.path }, home);
      const dir = join(tmp.path, `claudemesh-${uid}`);
      expect(lstatSync(join(dir, `${claude.pid}.sock`)).isSocket()).toBe(true);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(existsSync(join(home, "run"))).toBe(false);
      expect(await claude.hook("working", { shell: true })).toEqual(silentOk);
      expect(await status("LongHome")).toBe("working");
      expect(await claude.hook("idle")).toEqual(silentOk);
      expect(await status("LongHome")).toBe("idle");
    } finally {
      tmp.cleanup();
    }
  });

  test("a temp socket dir someone else could reach is refused: no socket, hooks do nothing, status stays idle", async () => {
    const tmp = tempDir("cm-tmp-");
    try {
      const dir = join(tmp.path, `claudemesh-${uid}`);
      mkdirSync(dir, { mode: 0o777 });
      chmodSync(dir, 0o777);
      const home = join(configHome([]), "h".repeat(MAX_SOCKET_PATH));
      const { claude } = await plainSession("Refused", { TMPDIR: tmp.path }, home);
      await claude.mcp.waitForStderr(/cannot listen for hooks/);
      expect(existsSync(join(dir, `${claude.pid}.sock`))).toBe(false);
      expect(statSync(dir).mode & 0o777).toBe(0o777);
      expect(await claude.hook("working")).toEqual(silentOk);
      expect(await status("Refused")).toBe("idle");
    } finally {
      tmp.cleanup();
    }
  });
});

describe("the pid-named socket's location and checks", () => {
  const dirs: { cleanup(): void }[] = [];
  afterAll(() => {
    for (const d of dirs) d.cleanup();
  });
  const temp = () => {
    const d = tempDir("cm-sock-");
    dirs.push(d);
    return d.path;
  };

  test("under the claudemesh home while the path fits in sun_path, else under the temp dir", () => {
    const home = temp();
    const tmp = temp();
    const saved = { CLAUDEMESH_HOME: process.env.CLAUDEMESH_HOME, TMPDIR: process.env.TMPDIR };
    try {
      process.env.TMPDIR = tmp;
      process.env.CLAUDEMESH_HOME = home;
      expect(pidSocket(4242)).toEqual({ dir: join(home, "run"), path: join(home, "run", "4242.sock") });
      process.env.CLAUDEMESH_HOME = join(home, "h".repeat(MAX_SOCKET_PATH));
      expect(pidSocket(4242)).toEqual({ dir: join(tmp, `claudemesh-${uid}`), path: join(tmp, `claudemesh-${uid}`, "4242.sock") });
      process.env.TMPDIR = join(tmp, "t".repeat(MAX_SOCKET_PATH));
      expect(pidSocket(4242)).toBeNull();
      expect(pidSocket(0)).toBeNull();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test("a private dir is a real directory of this user with no group or world access", () => {
    const base = temp();
    const ok = join(base, "ok");
    mkdirSync(ok, { mode: 0o700 });
    expect(isPrivateDir(ok)).toBe(true);
    const loose = join(base, "loose");
    mkdirSync(loose, { mode: 0o700 });
    chmodSync(loose, 0o750);
    expect(isPrivateDir(loose)).toBe(false);
    symlinkSync(ok, join(base, "link"));
    expect(isPrivateDir(join(base, "link"))).toBe(false);
    writeFileSync(join(base, "file"), "");
    chmodSync(join(base, "file"), 0o600);
    expect(isPrivateDir(join(base, "file"))).toBe(false);
    expect(isPrivateDir(join(base, "missing"))).toBe(false);
    if (uid === 0) {
      // Only root can hand a dir to someone else: owned by nobody, it is refused however tight.
      const theirs = join(base, "theirs");
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 65534, 65534);
      expect(isPrivateDir(theirs)).toBe(false);
    }
  });

  test("parentPid reads the parent of a process, and null for one that does not exist", async () => {
    expect(parentPid(process.pid)).toBe(process.ppid);
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    expect(parentPid(gone.pid)).toBeNull();
  });

  test("sockets of processes that are gone are swept; live ones and other files stay", async () => {
    const dir = temp();
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    const live = createServer();
    await new Promise<void>((resolve) => live.listen(join(dir, `${process.pid}.sock`), resolve));
    try {
      writeFileSync(join(dir, `${gone.pid}.sock`), "");
      writeFileSync(join(dir, "notes.txt"), "");
      sweepDeadSockets(dir);
      expect(existsSync(join(dir, `${gone.pid}.sock`))).toBe(false);
      expect(existsSync(join(dir, `${process.pid}.sock`))).toBe(true);
      expect(existsSync(join(dir, "notes.txt"))).toBe(true);
    } finally {
      live.close();
      rmSync(join(dir, `${process.pid}.sock`), { force: true });
    }
  });
});

/** A claudemesh home (created if needed) that has joined one mesh as `member`. */
function writeMembership(home: string, member: MeshConfig): void {
  writeSecretFile(join(home, "config.json"), JSON.stringify({ version: 1, meshes: [member] }, null, 2));
}
