import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLAUDEMESH_GUIDE } from "../../src/mcp/guide.ts";
import { tempDir } from "../helpers/backends.ts";

/**
 * install / uninstall through the real CLI (from source) on a temp HOME: idempotent, every unrelated key
 * and hook kept, and uninstall gives back the very bytes that were there before.
 */

const REPO = join(import.meta.dir, "../..");
const MAIN = join(REPO, "src/cli/main.ts");
const BUN = process.execPath;
const HOOK = (state: string) => `${BUN} ${MAIN} hook ${state}`;

let t: { path: string; cleanup(): void };
let home: string;
let cmHome: string;
beforeEach(() => {
  t = tempDir("cm-install-");
  home = join(t.path, "home");
  cmHome = join(t.path, "cmhome");
  mkdirSync(home);
});
afterEach(() => t.cleanup());

const claudeJson = () => join(home, ".claude.json");
const settingsJson = () => join(home, ".claude", "settings.json");
const read = (p: string) => readFileSync(p, "utf8");
const backups = (p: string) => readdirSync(join(p, "..")).filter((f) => f.startsWith(`${p.split("/").pop()}.claudemesh-backup-`));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([BUN, MAIN, ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "", HOME: home, CLAUDEMESH_HOME: cmHome },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr };
}

/** What Claude Code itself writes: JSON.stringify(…, null, 2), no trailing newline in ~/.claude.json. */
const EXISTING_CLAUDE_JSON = JSON.stringify(
  {
    numStartups: 12,
    theme: "dark",
    mcpServers: { github: { type: "stdio", command: "gh-mcp", args: [], env: { TOKEN: "x" } }, empty: {} },
    projects: { "/work": { allowedTools: [], mcpServers: {} } },
    oauthAccount: { emailAddress: "a@b.c" },
  },
  null,
  2,
);
/** A hand-edited settings file: 4-space indent, trailing newline, the user's own hooks on Stop and elsewhere. */
const EXISTING_SETTINGS = `${JSON.stringify(
  {
    model: "opus",
    permissions: { allow: ["Bash(ls:*)"] },
    hooks: {
      Stop: [{ hooks: [{ type: "command", command: "say done" }] }],
      PostToolUse: [{ matcher: "Edit", hooks: [{ type: "command", command: "prettier --write", timeout: 30 }] }],
      Notification: [],
    },
    env: { FOO: "bar" },
  },
  null,
  4,
)}\n`;

describe("install / uninstall", () => {
  test("twice then uninstall: unrelated content kept, byte-for-byte restored, backups made", async () => {
    writeFileSync(claudeJson(), EXISTING_CLAUDE_JSON, { mode: 0o600 });
    mkdirSync(join(home, ".claude"));
    writeFileSync(settingsJson(), EXISTING_SETTINGS, { mode: 0o644 });

    const first = await cli("install");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const cj = JSON.parse(read(claudeJson()));
    expect(cj.mcpServers.claudemesh).toEqual({ type: "stdio", command: BUN, args: [MAIN, "mcp"], env: { CLAUDEMESH_SESSION_DIR: "" } });
    expect(cj.mcpServers.github).toEqual({ type: "stdio", command: "gh-mcp", args: [], env: { TOKEN: "x" } });
    expect(Object.keys(cj)).toEqual(["numStartups", "theme", "mcpServers", "projects", "oauthAccount"]);
    const st = JSON.parse(read(settingsJson()));
    expect(st.hooks.Stop).toEqual([{ hooks: [{ type: "command", command: "say done" }] }, { hooks: [{ type: "command", command: HOOK("idle") }] }]);
    expect(st.hooks.UserPromptSubmit).toEqual([{ hooks: [{ type: "command", command: HOOK("working") }] }]);
    expect(st.hooks.PreToolUse).toEqual([{ hooks: [{ type: "command", command: HOOK("working") }] }]);
    expect(st.hooks.SessionStart).toEqual([{ hooks: [{ type: "command", command: HOOK("context") }] }]);
    expect(st.hooks.PostToolUse).toEqual([{ matcher: "Edit", hooks: [{ type: "command", command: "prettier --write", timeout: 30 }] }]);
    expect(st.model).toBe("opus");
    expect(read(settingsJson()).startsWith('{\n    "model"')).toBe(true);
    expect(read(join(cmHome, "CLAUDEMESH.md"))).toBe(CLAUDEMESH_GUIDE);
    // modes kept through the atomic rewrite
    expect(statSync(claudeJson()).mode & 0o777).toBe(0o600);
    expect(statSync(settingsJson()).mode & 0o777).toBe(0o644);
    // one backup each, holding the original bytes
    expect(backups(claudeJson())).toHaveLength(1);
    expect(read(join(home, backups(claudeJson())[0] as string))).toBe(EXISTING_CLAUDE_JSON);
    expect(backups(settingsJson())).toHaveLength(1);
    expect(read(join(home, ".claude", backups(settingsJson())[0] as string))).toBe(EXISTING_SETTINGS);

    const afterFirst = { cj: read(claudeJson()), st: read(settingsJson()) };
    const second = await cli("install");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("already in");
    expect(read(claudeJson())).toBe(afterFirst.cj);
    expect(read(settingsJson())).toBe(afterFirst.st);
    expect(backups(claudeJson())).toHaveLength(1);
    expect(backups(settingsJson())).toHaveLength(1);

    const un = await cli("uninstall");
    expect(un.code).toBe(0);
    expect(read(claudeJson())).toBe(EXISTING_CLAUDE_JSON);
    expect(read(settingsJson())).toBe(EXISTING_SETTINGS);
    expect(existsSync(join(cmHome, "CLAUDEMESH.md"))).toBe(false);

    // uninstalling again finds nothing and changes nothing
    const again = await cli("uninstall");
    expect(again.code).toBe(0);
    expect(read(claudeJson())).toBe(EXISTING_CLAUDE_JSON);
    expect(read(settingsJson())).toBe(EXISTING_SETTINGS);
  });

  test("empty HOME: install creates the files, uninstall leaves no claudemesh keys behind", async () => {
    expect((await cli("install")).code).toBe(0);
    expect(JSON.parse(read(claudeJson())).mcpServers.claudemesh.args).toEqual([MAIN, "mcp"]);
    expect(Object.keys(JSON.parse(read(settingsJson())).hooks)).toEqual(["SessionStart", "UserPromptSubmit", "PreToolUse", "Stop"]);
    expect((await cli("install")).code).toBe(0);
    expect((await cli("uninstall")).code).toBe(0);
    for (const p of [claudeJson(), settingsJson()]) {
      if (existsSync(p)) expect(read(p)).not.toContain("claudemesh");
    }
    expect(existsSync(claudeJson())).toBe(false);
    expect(existsSync(join(home, ".claude"))).toBe(false);
  });

  test("Claude Code writing its own keys between install and uninstall: only ours go", async () => {
    writeFileSync(claudeJson(), EXISTING_CLAUDE_JSON);
    expect((await cli("install")).code).toBe(0);
    const cj = JSON.parse(read(claudeJson()));
    cj.numStartups = 13;
    cj.mcpServers.later = { type: "stdio", command: "x", args: [], env: {} };
    writeFileSync(claudeJson(), JSON.stringify(cj, null, 2));
    expect((await cli("uninstall")).code).toBe(0);
    const after = JSON.parse(read(claudeJson()));
    expect(after.numStartups).toBe(13);
    expect(Object.keys(after.mcpServers)).toEqual(["github", "empty", "later"]);
  });

  test("an upgrade (the binary moved) replaces the old hook commands instead of adding new ones", async () => {
    mkdirSync(join(home, ".claude"));
    const old = (s: string) => `/old/place/claudemesh hook ${s}`;
    writeFileSync(
      settingsJson(),
      JSON.stringify(
        {
          hooks: {
            Stop: [
              {
                hooks: [
                  { type: "command", command: "say done" },
                  { type: "command", command: old("idle") },
                ],
              },
            ],
            PreToolUse: [{ hooks: [{ type: "command", command: old("working") }] }],
          },
        },
        null,
        2,
      ),
    );
    expect((await cli("install")).code).toBe(0);
    const st = JSON.parse(read(settingsJson()));
    expect(st.hooks.Stop).toEqual([{ hooks: [{ type: "command", command: "say done" }] }, { hooks: [{ type: "command", command: HOOK("idle") }] }]);
    expect(st.hooks.PreToolUse).toEqual([{ hooks: [{ type: "command", command: HOOK("working") }] }]);
  });

  test("a broken file stops install before anything is written", async () => {
    writeFileSync(claudeJson(), "{ not json");
    mkdirSync(join(home, ".claude"));
    writeFileSync(settingsJson(), EXISTING_SETTINGS);
    const r = await cli("install");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(".claude.json is not valid JSON");
    expect(read(claudeJson())).toBe("{ not json");
    expect(read(settingsJson())).toBe(EXISTING_SETTINGS);
    expect(backups(settingsJson())).toHaveLength(0);
  });

  test("a symlinked ~/.claude.json (dotfile managers) is edited through the link", async () => {
    const real = join(t.path, "dotfiles-claude.json");
    writeFileSync(real, EXISTING_CLAUDE_JSON);
    chmodSync(real, 0o600);
    symlinkSync(real, claudeJson());
    expect((await cli("install")).code).toBe(0);
    expect(JSON.parse(read(real)).mcpServers.claudemesh).toBeDefined();
    expect((await cli("uninstall")).code).toBe(0);
    expect(read(real)).toBe(EXISTING_CLAUDE_JSON);
  });
});
