/** The dialog driver and debug-log readers on screens and log lines captured from 2.1.197 and 2.1.332. */
import { describe, expect, test } from "bun:test";
import { channelNotifications, decodeDebugLog } from "./claude-env.ts";
import { CLAUDE_DIALOGS, dialogOptions } from "./claude-tmux.ts";

const TRUST_197 = `
 Accessing workspace:

 /tmp/x/project

 Quick safety check: Is this a project you created or one you trust? (Like your own code, a well-known open source project, or work from your team). If not, take a moment to review what's in this
 folder first.

 Security guide

 ❯ 1. Yes, I trust this folder
   2. No, exit

 Enter to confirm · Esc to cancel
`;

const TRUST_332 = `
 Accessing workspace:

 /tmp/x/project

 Claude Code'll be able to read, edit, and execute files here.

 Security guide

 ❯ No, exit
   Yes, I trust this folder

 Enter to confirm · Esc to cancel
`;

const API_KEY_332 = `
  Detected a custom API key in your environment

  ANTHROPIC_API_KEY: sk-ant-...nt-e2e-fake-key-0000

  Do you want to use this API key?
    Yes
  ❯ No (recommended)

  Enter to confirm · Esc to cancel
`;

const API_KEY_197 = `
  Detected a custom API key in your environment

  ANTHROPIC_API_KEY: sk-ant-...nt-e2e-fake-key-0000

  Do you want to use this API key?                                                                   
    1. Yes
  ❯ 2. No (recommended)                                       

  Enter to confirm · Esc to cancel
`;

const BYPASS_332 = `
  WARNING: Claude Code running in Bypass Permissions mode

  By proceeding, you accept all responsibility for actions taken while running in Bypass Permissions mode.

  https://code.claude.com/docs/en/security

  ❯ No, exit
    Yes, I accept

  Enter to confirm · Esc to cancel
`;

const dialogFor = (screen: string) => CLAUDE_DIALOGS.find((d) => d.marker.test(screen))?.name;

describe("dialogOptions", () => {
  test("2.1.197: numbered options, the highlight on the first", () => {
    expect(dialogOptions(TRUST_197)).toEqual([
      { label: "Yes, I trust this folder", selected: true },
      { label: "No, exit", selected: false },
    ]);
    expect(dialogOptions(API_KEY_197)).toEqual([
      { label: "Yes", selected: false },
      { label: "No (recommended)", selected: true },
    ]);
  });

  test("2.1.332: unnumbered, the trust dialog defaults to No, exit; prose above the options is not an option", () => {
    expect(dialogOptions(TRUST_332)).toEqual([
      { label: "No, exit", selected: true },
      { label: "Yes, I trust this folder", selected: false },
    ]);
    expect(dialogOptions(API_KEY_332)).toEqual([
      { label: "Yes", selected: false },
      { label: "No (recommended)", selected: true },
    ]);
    expect(dialogOptions(BYPASS_332).map((o) => o.label)).toEqual(["No, exit", "Yes, I accept"]);
  });

  test("each dialog is recognised and its wanted option is among the options, on both versions", () => {
    for (const [screen, name] of [
      [TRUST_197, "trust folder"],
      [TRUST_332, "trust folder"],
      [API_KEY_197, "custom API key"],
      [API_KEY_332, "custom API key"],
      [BYPASS_332, "bypass permissions"],
    ] as const) {
      expect(dialogFor(screen)).toBe(name);
      const d = CLAUDE_DIALOGS.find((x) => x.name === name);
      expect(dialogOptions(screen).filter((o) => d?.want.test(o.label))).toHaveLength(1);
    }
  });

  test("a ready prompt (❯ in the input box, no footer) has no options", () => {
    expect(dialogOptions("────\n❯  \n────\n  ⏵⏵ auto mode on (shift+tab to cycle)")).toEqual([]);
  });
});

describe("debug log", () => {
  test("2.1.332 writes a message holding a newline as one JSON string; decoded it reads like 2.1.197's", () => {
    const raw = ['2026-12-01T11:31:47.430Z [ERROR] "clone failed\\n\\nOriginal error: \\"x\\""', "2026-12-01T11:31:47.431Z [DEBUG] plain line"].join("\n");
    expect(decodeDebugLog(raw)).toBe('2026-12-01T11:31:47.430Z [ERROR] clone failed\n\nOriginal error: "x"\n2026-12-01T11:31:47.431Z [DEBUG] plain line');
    // Not a JSON string: left alone.
    expect(decodeDebugLog('2026-12-01T11:31:47.430Z [DEBUG] "half')).toBe('2026-12-01T11:31:47.430Z [DEBUG] "half');
  });

  test("channel notifications in both formats", () => {
    const old =
      '2026-12-01T10:00:00.000Z [DEBUG] MCP server "claudemesh": notifications/claude/channel: hi Bob\nsecond line\n2026-12-01T10:00:00.001Z [DEBUG] next';
    expect(channelNotifications(old)).toEqual([{ chars: "hi Bob\nsecond line".length, text: "hi Bob\nsecond line" }]);
    const now = '2026-12-01T10:00:00.000Z [DEBUG] MCP server "claudemesh": notifications/claude/channel (31 chars)';
    expect(channelNotifications(now)).toEqual([{ chars: 31, text: null }]);
  });
});
