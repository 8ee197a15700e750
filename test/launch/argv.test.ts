import { describe, expect, test } from "bun:test";
import { buildClaudeArgv, CHANNEL_SERVER, CHANNELS_FLAG, SKIP_PERMISSIONS_FLAG, splitAtDoubleDash, stripDangerousFlags } from "../../src/launch/argv.ts";
import { hookCommand, hooksFor, mcpServerEntry, mergeSettings, shellQuote } from "../../src/launch/claude-config.ts";

const base = { mcpConfigPath: "/s/mcp-config.json", settingsPath: "/s/settings.json", skipPermissions: true };
const OURS = ["--mcp-config", "/s/mcp-config.json", CHANNELS_FLAG, CHANNEL_SERVER, "--settings", "/s/settings.json", SKIP_PERMISSIONS_FLAG];

/** Claude Code's commander parse of a variadic flag: values until the next arg that starts with `-`. */
function variadicValues(argv: string[], flag: string): string[] {
  const i = argv.indexOf(flag);
  const out: string[] = [];
  for (let j = i + 1; j < argv.length && !(argv[j] as string).startsWith("-"); j++) out.push(argv[j] as string);
  return out;
}

describe("buildClaudeArgv", () => {
  test("no pass-through args: exactly our flags", () => {
    expect(buildClaudeArgv({ ...base, passthrough: [] })).toEqual(OURS);
  });

  test("without autonomous mode there is no --dangerously-skip-permissions", () => {
    const argv = buildClaudeArgv({ ...base, skipPermissions: false, passthrough: [SKIP_PERMISSIONS_FLAG] });
    expect(argv).not.toContain(SKIP_PERMISSIONS_FLAG);
  });

  test("pass-through args follow ours, in their order", () => {
    const pass = ["--append-system-prompt", "You are Big Tony", "--model", "opus", "hello there"];
    expect(buildClaudeArgv({ ...base, passthrough: pass })).toEqual([...OURS, ...pass]);
  });

  test("a user's dangerous flags are stripped, never doubled", () => {
    const argv = buildClaudeArgv({
      ...base,
      passthrough: ["--model", "opus", SKIP_PERMISSIONS_FLAG, CHANNELS_FLAG, CHANNEL_SERVER, "--verbose", SKIP_PERMISSIONS_FLAG],
    });
    expect(argv.filter((a) => a === SKIP_PERMISSIONS_FLAG)).toHaveLength(1);
    expect(argv.filter((a) => a === CHANNELS_FLAG)).toHaveLength(1);
    expect(argv.filter((a) => a === CHANNEL_SERVER)).toHaveLength(1);
    expect(argv).toEqual([...OURS, "--model", "opus", "--verbose"]);
  });

  test("a user's other channels are kept, merged into our one flag", () => {
    const argv = buildClaudeArgv({ ...base, passthrough: [CHANNELS_FLAG, "server:other", "plugin:x@y", "--verbose", `${CHANNELS_FLAG}=server:third`] });
    expect(variadicValues(argv, CHANNELS_FLAG)).toEqual([CHANNEL_SERVER, "server:other", "plugin:x@y", "server:third"]);
    expect(argv.filter((a) => a.startsWith(CHANNELS_FLAG))).toHaveLength(1);
    expect(argv.slice(-1)).toEqual(["--verbose"]);
  });

  test("variadic flags are always followed by another --flag, so a positional prompt is never swallowed", () => {
    const argv = buildClaudeArgv({ ...base, passthrough: ["fix the bug"] });
    expect(variadicValues(argv, CHANNELS_FLAG)).toEqual([CHANNEL_SERVER]);
    expect(variadicValues(argv, "--mcp-config")).toEqual(["/s/mcp-config.json"]);
    expect(argv.at(-1)).toBe("fix the bug");
    // also without skip-permissions, where --settings is the last of ours
    const argv2 = buildClaudeArgv({ ...base, skipPermissions: false, passthrough: ["fix the bug"] });
    expect(variadicValues(argv2, CHANNELS_FLAG)).toEqual([CHANNEL_SERVER]);
    expect(argv2.slice(-3)).toEqual(["--settings", "/s/settings.json", "fix the bug"]);
  });

  test("no --name for claude unless the user passes one: a native agent name would shadow the mesh name", () => {
    expect(buildClaudeArgv({ ...base, passthrough: [] })).not.toContain("--name");
    // Passed through as given (docs/CLAUDE-CODE.md: native SendMessage then reaches the session by it).
    expect(buildClaudeArgv({ ...base, passthrough: ["--name", "Bob"] })).toEqual([...OURS, "--name", "Bob"]);
  });

  test("nothing after a user's own `--` is touched", () => {
    const pass = ["--model", "opus", "--", SKIP_PERMISSIONS_FLAG];
    expect(buildClaudeArgv({ ...base, passthrough: pass })).toEqual([...OURS, ...pass]);
  });
});

describe("stripDangerousFlags", () => {
  test("the channels flag swallows values up to the next flag, like commander", () => {
    expect(stripDangerousFlags([CHANNELS_FLAG, "server:a", "server:b", "-p", "x"])).toEqual({
      rest: ["-p", "x"],
      channels: ["server:a", "server:b"],
      skipPermissions: false,
      settings: [],
    });
  });
  test("=value forms", () => {
    expect(stripDangerousFlags([`${SKIP_PERMISSIONS_FLAG}=true`, `${CHANNELS_FLAG}=server:a`, "positional"])).toEqual({
      rest: ["positional"],
      channels: ["server:a"],
      skipPermissions: true,
      settings: [],
    });
  });
  test("the user's --settings are taken out (launch merges them into its own file)", () => {
    const r = stripDangerousFlags(["--settings", "/u/s.json", "--model", "opus", '--settings={"a":1}', "go"]);
    expect(r.rest).toEqual(["--model", "opus", "go"]);
    expect(r.settings).toEqual(["/u/s.json", '{"a":1}']);
    expect(buildClaudeArgv({ ...base, passthrough: ["--settings", "/u/s.json", "go"] }).filter((a) => a === "--settings")).toHaveLength(1);
  });
});

describe("mergeSettings", () => {
  test("user keys win; hooks from both run, ours last", () => {
    const ours = { hooks: { Stop: [{ hooks: [{ type: "command" as const, command: "cm hook idle" }] }] } };
    const user = {
      model: "opus",
      hooks: { Stop: [{ hooks: [{ type: "command", command: "say done" }] }], Notification: [{ hooks: [{ type: "command", command: "n" }] }] },
    };
    expect(mergeSettings(ours, [user])).toEqual({
      model: "opus",
      hooks: {
        Stop: [{ hooks: [{ type: "command", command: "say done" }] }, { hooks: [{ type: "command", command: "cm hook idle" }] }],
        Notification: [{ hooks: [{ type: "command", command: "n" }] }],
      },
    });
  });
});

describe("splitAtDoubleDash", () => {
  test("splits at the first --", () => {
    expect(splitAtDoubleDash(["--name", "A", "-y", "--", "--append-system-prompt", "x", "--", "y"])).toEqual({
      own: ["--name", "A", "-y"],
      passthrough: ["--append-system-prompt", "x", "--", "y"],
    });
    expect(splitAtDoubleDash(["--name", "A"])).toEqual({ own: ["--name", "A"], passthrough: [] });
  });
});

describe("claude wiring", () => {
  test("hook commands are shell-quoted", () => {
    expect(shellQuote("/usr/local/bin/claudemesh")).toBe("/usr/local/bin/claudemesh");
    expect(shellQuote("/Users/Jo Smith/it's/claudemesh")).toBe(`'/Users/Jo Smith/it'\\''s/claudemesh'`);
    expect(hookCommand(["/opt/my tools/claudemesh"], "idle")).toBe("'/opt/my tools/claudemesh' hook idle");
  });

  test("hooks: SessionStart loads the guide, UserPromptSubmit and PreToolUse report working, Stop reports idle", () => {
    expect(hooksFor(["/bin/cm"])).toEqual({
      SessionStart: [{ hooks: [{ type: "command", command: "/bin/cm hook context" }] }],
      UserPromptSubmit: [{ hooks: [{ type: "command", command: "/bin/cm hook working" }] }],
      PreToolUse: [{ hooks: [{ type: "command", command: "/bin/cm hook working" }] }],
      Stop: [{ hooks: [{ type: "command", command: "/bin/cm hook idle" }] }],
    });
  });

  test("MCP entry runs `mcp` after the self command's own args", () => {
    expect(mcpServerEntry(["/bun", "/src/cli/main.ts"], { A: "1" })).toEqual({ command: "/bun", args: ["/src/cli/main.ts", "mcp"], env: { A: "1" } });
    expect(mcpServerEntry(["/usr/bin/claudemesh"], {})).toEqual({ command: "/usr/bin/claudemesh", args: ["mcp"], env: {} });
  });
});
