import { existsSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { MeshConfig } from "../../src/client/config.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { writeSessionInfo } from "../../src/session/session-dir.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";
import { BUN, ensureBinary } from "../helpers/binary.ts";
import { startTestBroker, type TestBroker } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

const cleanups: (() => void | Promise<void>)[] = [];

/** Removes every temp dir and stops every MCP process made by these helpers. */
export async function cleanupMcp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export interface McpSuite {
  /** the compiled claudemesh binary */
  bin: string;
  broker: TestBroker;
}

/**
 * For a describe block: the compiled binary and a SQLite broker, ready in beforeAll. Afterwards every MCP
 * process and temp dir these helpers made, every test client and the broker are gone.
 */
export function mcpSuite(): McpSuite {
  const suite = {} as McpSuite;
  suiteFixture(async (stack) => {
    suite.bin = await ensureBinary();
    suite.broker = stack.use(await startTestBroker("sqlite"));
    // the MCP processes go first: they are clients of the broker
    stack.defer(cleanupMcp);
  });
  return suite;
}

/** A CLAUDEMESH_HOME holding config.json with these memberships. */
export function configHome(meshes: MeshConfig[]): string {
  const dir = tempDir("cm-home-");
  cleanups.push(dir.cleanup);
  writeSecretFile(join(dir.path, "config.json"), JSON.stringify({ version: 1, meshes }, null, 2));
  return dir.path;
}

/** A session dir as `claudemesh launch` writes it (0700, session.json with a fresh session key). */
export function sessionDir(meshSlug: string, displayName: string, role: string | null, groups: string): string {
  const dir = tempDir("cm-sess-");
  cleanups.push(dir.cleanup);
  writeSessionInfo(dir.path, {
    version: 1,
    meshSlug,
    displayName,
    role,
    groups,
    sessionKey: generateSigningKeyPair(),
    createdAt: Date.now(),
    launcherPid: process.pid,
  });
  return dir.path;
}

export interface ChannelNote {
  content: string;
  meta: Record<string, unknown>;
}

export interface McpHandle {
  client: Client;
  transport: StdioClientTransport;
  /** every notifications/claude/channel, raw, in order */
  channel: ChannelNote[];
  /** resolves with the first channel notification not yet taken that matches */
  nextChannel(pred?: (n: ChannelNote) => boolean): Promise<ChannelNote>;
  /** transport errors: a line on stdout that is not JSON-RPC shows up here */
  errors: Error[];
  stderr(): string;
  /** resolves once the process has logged a line matching */
  waitForStderr(pattern: RegExp): Promise<void>;
  call(name: string, args?: Record<string, unknown>): Promise<{ text: string; data: any; isError: boolean }>;
}

/**
 * Spawns `claudemesh mcp` (the compiled binary) and connects an MCP SDK client to it over stdio. `argv`
 * replaces the command when something else (fake-claude.ts) starts the mcp process with its own stdio;
 * `cwd` is where relative paths given to its file tools land.
 */
export async function startMcp(bin: string, env: Record<string, string>, argv: string[] = [bin, "mcp"], cwd?: string): Promise<McpHandle> {
  const [command, ...args] = argv as [string, ...string[]];
  const transport = new StdioClientTransport({ command, args, env, stderr: "pipe", ...(cwd ? { cwd } : {}) });
  let stderr = "";
  const stderrWaiters: { pattern: RegExp; resolve(): void }[] = [];
  transport.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
    for (const w of stderrWaiters.filter((x) => x.pattern.test(stderr))) {
      stderrWaiters.splice(stderrWaiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const client = new Client({ name: "claudemesh-test", version: "1.0.0" }, { capabilities: {} });
  const channel: ChannelNote[] = [];
  const taken = new Set<number>();
  const waiters: { pred: (n: ChannelNote) => boolean; resolve: (n: ChannelNote) => void }[] = [];
  const errors: Error[] = [];
  client.onerror = (e) => errors.push(e);
  // The fallback handler sees the notification exactly as it came off the wire, unvalidated.
  client.fallbackNotificationHandler = async (n: { method: string; params?: unknown }) => {
    if (n.method !== "notifications/claude/channel") return;
    const note = n.params as unknown as ChannelNote;
    const idx = channel.push(note) - 1;
    const i = waiters.findIndex((w) => w.pred(note));
    if (i >= 0) {
      taken.add(idx);
      waiters.splice(i, 1)[0]?.resolve(note);
    }
  };
  await client.connect(transport);
  cleanups.push(() => client.close());
  return {
    client,
    transport,
    channel,
    errors,
    stderr: () => stderr,
    waitForStderr: (pattern) => (pattern.test(stderr) ? Promise.resolve() : new Promise((resolve) => stderrWaiters.push({ pattern, resolve }))),
    nextChannel(pred = () => true) {
      const idx = channel.findIndex((n, i) => !taken.has(i) && pred(n));
      if (idx >= 0) {
        taken.add(idx);
        return Promise.resolve(channel[idx] as ChannelNote);
      }
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    async call(name, args = {}) {
      const r = (await client.callTool({ name, arguments: args })) as {
        content: { type: string; text: string }[];
        structuredContent?: unknown;
        isError?: boolean;
      };
      return { text: r.content.map((c) => c.text).join("\n"), data: r.structuredContent, isError: r.isError === true };
    },
  };
}

/** Runs `claudemesh hook <event>` with the hook JSON on stdin. */
export async function runHook(bin: string, event: string, env: Record<string, string>, stdin = '{"session_id":"s1","hook_event_name":"Stop"}') {
  const p = Bun.spawn([bin, "hook", event], { env, stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout: out, stderr: err };
}

export type HookRun = Awaited<ReturnType<typeof runHook>>;

/** A stand-in for plain `claude`: the parent of one `claudemesh mcp` (no session dir) and of its hooks. */
export interface FakeClaude {
  /** the stand-in's pid: the mcp process's parent */
  pid: number;
  mcp: McpHandle;
  /** runs `claudemesh hook <event>` as its child, or as its grandchild through `sh -c` */
  hook(event: string, opts?: { shell?: boolean; stdin?: string }): Promise<HookRun>;
}

/** Starts test/mcp/fixtures/fake-claude.ts with `env` (no session dir in it) and connects to its mcp process. */
export async function startFakeClaude(bin: string, env: Record<string, string>): Promise<FakeClaude> {
  const dir = tempDir("cm-fake-claude-");
  cleanups.push(dir.cleanup);
  const control = join(dir.path, "control.sock");
  const mcp = await startMcp(bin, env, [BUN, join(import.meta.dir, "fixtures", "fake-claude.ts"), bin, control]);
  await waitUntil("fake claude's control socket", () => (existsSync(control) ? true : undefined));
  return {
    pid: mcp.transport.pid as number,
    mcp,
    async hook(event, opts = {}) {
      const body = JSON.stringify({ event, shell: opts.shell === true, stdin: opts.stdin ?? '{"session_id":"s1","hook_event_name":"Stop"}' });
      const res = await fetch("http://fake-claude/hook", { method: "POST", body, unix: control });
      return (await res.json()) as HookRun;
    },
  };
}

/** Minimal env for a child: no CLAUDEMESH_* from the outer environment. */
export function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[k]) env[k] = process.env[k] as string;
  return { ...env, ...extra };
}
