// Embedded at build time, so the compiled binary carries the guide that `install` copies to
// ~/.claudemesh/CLAUDEMESH.md.
import text from "../../CLAUDEMESH.md" with { type: "text" };

/** The full model-facing guide (CLAUDEMESH.md at the repo top level). */
export const CLAUDEMESH_GUIDE: string = text;

/**
 * What a SessionStart hook prints so Claude Code adds the guide to the conversation's context: the
 * MCP `instructions` are cut at 2 KB (4 KB from 2.1.332) and missing from a turn started by a push
 * (2.1.251+), so the long form needs this second way in.
 */
export function sessionStartOutput(): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: "SessionStart", additionalContext: CLAUDEMESH_GUIDE } });
}
