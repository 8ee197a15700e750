import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLAUDEMESH_GUIDE } from "../../src/mcp/guide.ts";
import { hookPayload, launchedSessionDir, standsAside } from "../../src/mcp/hook-client.ts";
import { MAX_HOOK_JSON } from "../../src/mcp/hook-protocol.ts";
import { startHookServer } from "../../src/mcp/hook-server.ts";
import { hookSocketPath } from "../../src/session/paths.ts";
import { tempDir } from "../helpers/backends.ts";
import { addMember, connect, createMesh } from "../helpers/broker.ts";
import { baseEnv, configHome, mcpSuite, runHook, sessionDir, startMcp } from "./helpers.ts";

const silentOk = { code: 0, stdout: "", stderr: "" };

describe("claudemesh hook", () => {
  const suite = mcpSuite();

  test("outside a claudemesh session it is a silent no-op that exits 0", async () => {
    expect(await runHook(suite.bin, "idle", baseEnv({}))).toEqual(silentOk);
    expect(await runHook(suite.bin, "working", baseEnv({}), "")).toEqual(silentOk);
    expect(await runHook(suite.bin, "working", baseEnv({ CLAUDEMESH_SESSION_DIR: "/nonexistent/cm-session" }))).toEqual(silentOk);
    expect(await runHook(suite.bin, "bogus", baseEnv({}))).toEqual(silentOk);
    expect(await runHook(suite.bin, "", baseEnv({}), "not json")).toEqual(silentOk);
  });

  test("a session dir whose mcp process is gone (stale socket file) is a silent no-op", async () => {
    const dir = tempDir("cm-stale-");
    try {
      writeFileSync(hookSocketPath(dir.path), "");
      const started = performance.now();
      expect(await runHook(suite.bin, "idle", baseEnv({ CLAUDEMESH_SESSION_DIR: dir.path }))).toEqual(silentOk);
      expect(performance.now() - started).toBeLessThan(1500);
    } finally {
      dir.cleanup();
    }
  });

  test("working / idle reach the broker through the session's mcp process, which replaced a stale socket", async () => {
    const mesh = await createMesh(suite.broker, "hooks");
    const member = await addMember(suite.broker, mesh, "hook-member");
    const observer = await connect(await addMember(suite.broker, mesh, "Observer"));
    const dir = sessionDir("hooks", "Hooked", null, "");
    writeFileSync(hookSocketPath(dir), "stale");
    const env = baseEnv({ CLAUDEMESH_HOME: configHome([member]), CLAUDEMESH_SESSION_DIR: dir });
    const mcp = await startMcp(suite.bin, env);
    await mcp.call("list_peers"); // connected
    const status = async () => (await observer.request({ type: "list_peers" }, "peers_list")).peers.find((p) => p.name === "Hooked")?.status;
    expect(await status()).toBe("idle");
    // A PreToolUse payload as Claude Code sends it, with a big tool input that the hook trims.
    const big = JSON.stringify({ session_id: "s", hook_event_name: "PreToolUse", tool_name: "Write", tool_input: { content: "x".repeat(200_000) } });
    expect(await runHook(suite.bin, "working", env, big)).toEqual(silentOk);
    expect(await status()).toBe("working");
    expect(await runHook(suite.bin, "working", env)).toEqual(silentOk);
    expect(await status()).toBe("working");
    expect(await runHook(suite.bin, "idle", env)).toEqual(silentOk);
    expect(await status()).toBe("idle");
  });

  test("in a session another claudemesh launched, this one's hooks stand aside; the launcher's own act", async () => {
    const mesh = await createMesh(suite.broker, "hooks-aside");
    const member = await addMember(suite.broker, mesh, "aside-member");
    const observer = await connect(await addMember(suite.broker, mesh, "Observer"));
    const dir = sessionDir("hooks-aside", "Launched", null, "");
    const env = baseEnv({ CLAUDEMESH_HOME: configHome([member]), CLAUDEMESH_SESSION_DIR: dir });
    const mcp = await startMcp(suite.bin, env);
    await mcp.call("list_peers"); // connected
    const status = async () => (await observer.request({ type: "list_peers" }, "peers_list")).peers.find((p) => p.name === "Launched")?.status;
    // As after `install` from another path: its user-scope hooks run next to the launcher's own.
    const foreign = { ...env, CLAUDEMESH_LAUNCHER: JSON.stringify(["/elsewhere/bin/claudemesh"]) };
    const own = { ...env, CLAUDEMESH_LAUNCHER: JSON.stringify([suite.bin]) };
    expect(await runHook(suite.bin, "working", foreign)).toEqual(silentOk);
    expect(await runHook(suite.bin, "context", foreign)).toEqual(silentOk);
    expect(await status()).toBe("idle");
    expect(await runHook(suite.bin, "working", own)).toEqual(silentOk);
    expect(await status()).toBe("working");
    const context = await runHook(suite.bin, "context", own);
    expect(JSON.parse(context.stdout).hookSpecificOutput.additionalContext).toBe(CLAUDEMESH_GUIDE);
    // Outside a launched session (plain `claude` after `install`) a stray launcher value changes nothing.
    const plain = await runHook(suite.bin, "context", baseEnv({ CLAUDEMESH_LAUNCHER: JSON.stringify(["/elsewhere/bin/claudemesh"]) }));
    expect(JSON.parse(plain.stdout).hookSpecificOutput.additionalContext).toBe(CLAUDEMESH_GUIDE);
  });

  test("the hook server answers a malformed line with ok:false and keeps serving", async () => {
    const dir = tempDir("cm-hooksrv-");
    const seen: string[] = [];
    const server = await startHookServer(join(dir.path, "h.sock"), async (event) => {
      seen.push(event);
      return true;
    });
    const exchange = (line: string) =>
      new Promise<string>((resolve) => {
        let reply = "";
        const s = createConnection({ path: server.path }, () => s.write(line));
        s.on("data", (c) => (reply += c.toString()));
        s.on("close", () => resolve(reply));
      });
    try {
      expect(await exchange("garbage\n")).toBe('{"ok":false}\n');
      expect(await exchange('{"event":"sleeping"}\n')).toBe('{"ok":false}\n');
      expect(await exchange('{"event":"idle","hook":{"session_id":"x"}}\n')).toBe('{"ok":true}\n');
      expect(seen).toEqual(["idle"]);
    } finally {
      await server.close();
      dir.cleanup();
    }
  });

  test("hook payloads: small ones pass whole, big ones keep only small scalar fields, junk becomes null", () => {
    expect(hookPayload('{"session_id":"a","hook_event_name":"Stop"}')).toEqual({ session_id: "a", hook_event_name: "Stop" });
    const big = JSON.stringify({ session_id: "a", tool_name: "Write", n: 3, tool_input: { content: "y".repeat(MAX_HOOK_JSON) } });
    expect(hookPayload(big)).toEqual({ session_id: "a", tool_name: "Write", n: 3 });
    expect(hookPayload("")).toBeNull();
    expect(hookPayload("{oops")).toBeNull();
  });
});

describe("launchedSessionDir", () => {
  test("a session dir counts only for hooks of the claude that launch started (not a claude nested inside it)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cm-owner-"));
    try {
      const env = { CLAUDEMESH_SESSION_DIR: dir };
      expect(launchedSessionDir({}, process.pid)).toBeNull();
      expect(launchedSessionDir(env, process.pid)).toBe(dir); // no pid file: an older launcher, trusted
      writeFileSync(join(dir, "claude.pid"), `${process.pid}\n`);
      expect(launchedSessionDir(env, process.pid)).toBe(dir); // claude is the hook's parent
      writeFileSync(join(dir, "claude.pid"), `${process.ppid}\n`);
      expect(launchedSessionDir(env, process.pid)).toBe(dir); // claude is the grandparent (through sh -c)
      writeFileSync(join(dir, "claude.pid"), "999999\n");
      expect(launchedSessionDir(env, process.pid)).toBeNull(); // another claude's session: not ours
      expect(standsAside(["/other/claudemesh"], { ...env, CLAUDEMESH_LAUNCHER: JSON.stringify(["/launcher"]) })).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
