import { defineCommand } from "citty";
import { hookPayload, sendHookEvent, standsAside } from "../../mcp/hook-client.ts";
import { HOOK_EVENTS, HOOK_TIMEOUT_MS, isHookEvent } from "../../mcp/hook-protocol.ts";
import { selfCommand } from "../../util/self.ts";
import { UsageError, withExamples } from "../command-meta.ts";

/** Claude Code writes the hook JSON and closes stdin; a terminal or a stuck pipe must not hold us up. */
async function readStdin(timeoutMs: number): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.stdin.off("data", onData);
      process.stdin.pause();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const onData = (c: Buffer) => chunks.push(c);
    const timer = setTimeout(done, timeoutMs);
    process.stdin.on("data", onData);
    process.stdin.once("end", done);
    process.stdin.once("error", done);
  });
}

/**
 * `claudemesh hook working|idle`, run by Claude Code's hooks (UserPromptSubmit / PreToolUse → working,
 * Stop → idle). Prints nothing (except for `context`, whose output is the point) and succeeds: a hook
 * must never disturb the session, and outside a claudemesh session it does nothing at all. Only a human
 * at a terminal gets a failing exit for an unknown event (main.ts: hook mistakes exit 0 under Claude).
 */
const command = defineCommand({
  meta: {
    name: "hook",
    description: "Report a Claude Code hook event (working | idle) to this session's claudemesh mcp process; `context` prints the mesh guide for SessionStart",
  },
  args: { event: { type: "positional", required: true, description: "working | idle | context" } },
  async run({ args }) {
    if (args.event !== "context" && !isHookEvent(args.event)) {
      throw new UsageError(`claudemesh hook: unknown event "${args.event}" (expected ${[...HOOK_EVENTS, "context"].join(", ")})`);
    }
    // Another claudemesh launched this session and runs its own copy of this hook (see standsAside).
    if (standsAside(selfCommand())) return 0;
    if (args.event === "context") {
      // SessionStart: the guide (CLAUDEMESH.md) enters the model's context as additional context.
      const { sessionStartOutput } = await import("../../mcp/guide.ts");
      process.stdout.write(sessionStartOutput() + "\n");
      return 0;
    }
    const stdin = await readStdin(HOOK_TIMEOUT_MS / 2);
    if (isHookEvent(args.event)) await sendHookEvent(args.event, hookPayload(stdin));
    return 0;
  },
});

export default withExamples(command, "claudemesh hook idle   # what Claude Code's Stop hook runs");
