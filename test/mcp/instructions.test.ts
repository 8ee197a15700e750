import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLAUDEMESH_GUIDE } from "../../src/mcp/guide.ts";
import { buildInstructions, INSTRUCTIONS_ESSENTIAL_BYTES, INSTRUCTIONS_MAX_BYTES, unavailableInstructions } from "../../src/mcp/instructions.ts";
import { allTools } from "../../src/mcp/registry.ts";
import { ROOT } from "../helpers/binary.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;
const toolNames = new Set(allTools().map((t) => t.name));

describe("MCP instructions", () => {
  test("name this session, teach every registered tool, and stay within Claude Code's 4 KB", () => {
    const s = buildInstructions({
      displayName: "Alice",
      meshSlug: "dev-team",
      role: "dev",
      groups: [
        { name: "frontend", role: "lead" },
        { name: "all", role: null },
      ],
      tools: toolNames,
    });
    expect(bytes(s)).toBeLessThanOrEqual(INSTRUCTIONS_MAX_BYTES);
    expect(s).toContain('You are "Alice" on the claudemesh mesh "dev-team"; role: dev; groups: @frontend (lead), @all.');
    for (const name of toolNames) expect(s).toContain(name);
    for (const phrase of [
      '<channel source="claudemesh"',
      "from_name",
      '"now" = urgent only',
      "lead gathers",
      "member contributes",
      "observer watches",
      "@group",
      "tailored",
      "state",
      "CLAUDEMESH.md",
    ]) {
      expect(s).toContain(phrase);
    }
  });

  /** What a session cannot work on the mesh without: on 2.1.197 nothing past the first 2048 characters arrives. */
  const ESSENTIAL = [
    /^You are "/,
    /^Peers are other Claude Code sessions/,
    /^Mesh peers are reached only with these claudemesh tools/,
    /^- send_message\(/,
    /^- priority: /,
    /^- check_messages\(/,
    /^- list_peers\(/,
  ];
  const essentialsIn = (head: string) => {
    const lines = head.split("\n").slice(0, -1); // the last line of a cut prefix may be partial
    return ESSENTIAL.every((re) => lines.some((l) => re.test(l)));
  };

  test("the first 2048 bytes stand on their own: identity, how to answer, mesh tools vs native messaging, core tools", () => {
    const s = buildInstructions({
      displayName: "Alice",
      meshSlug: "dev-team",
      role: "dev",
      groups: [
        { name: "frontend", role: "lead" },
        { name: "reviewers", role: null },
      ],
      tools: toolNames,
    });
    const head = new TextDecoder().decode(new TextEncoder().encode(s).slice(0, INSTRUCTIONS_ESSENTIAL_BYTES));
    expect(essentialsIn(head)).toBe(true);
    // Native messaging is named, and placed as outside the mesh.
    expect(head).toContain("SendMessage / ListAgents reach other Claude sessions on this machine only, outside the mesh");
    // The longest identity the clips allow still leaves the essentials within the 2048 characters 2.1.197 keeps.
    const long = "名".repeat(200);
    const groups = Array.from({ length: 64 }, (_, i) => ({ name: `group-${i}-${"x".repeat(50)}`, role: "lead-of-everything".repeat(3) }));
    const worst = buildInstructions({ displayName: long, meshSlug: long, role: long, groups, tools: toolNames });
    expect(essentialsIn(worst.slice(0, INSTRUCTIONS_ESSENTIAL_BYTES))).toBe(true);
  });

  test("stay within 4 KB however long the identity is", () => {
    const long = "名".repeat(64);
    const groups = Array.from({ length: 64 }, (_, i) => ({ name: `group-${i}-${"x".repeat(50)}`, role: "lead-of-everything".repeat(3) }));
    const s = buildInstructions({ displayName: long, meshSlug: "m".repeat(64), role: long, groups, tools: toolNames });
    expect(bytes(s)).toBeLessThanOrEqual(INSTRUCTIONS_MAX_BYTES);
    expect(s).toContain("send_message");
    expect(bytes(unavailableInstructions("x".repeat(5000)))).toBeLessThanOrEqual(INSTRUCTIONS_MAX_BYTES);
  });

  test("leave out tools that are not registered", () => {
    const s = buildInstructions({ displayName: "A", meshSlug: "m", role: null, groups: [], tools: new Set(["send_message", "list_peers"]) });
    expect(s).not.toContain("recall");
    expect(s).not.toContain("set_state");
    expect(s).toContain("groups: none yet");
  });
});

describe("CLAUDEMESH.md", () => {
  const file = readFileSync(join(ROOT, "CLAUDEMESH.md"), "utf8");

  test("is embedded verbatim for install to copy", () => {
    expect(CLAUDEMESH_GUIDE).toBe(file);
  });

  test("stays lean: ≤ 7,000 characters (well under 2000 tokens)", () => {
    expect(file.length).toBeLessThanOrEqual(7000);
  });

  test("covers every tool and the conventions the spec asks for", () => {
    for (const name of toolNames) expect(file).toContain(`\`${name}(`);
    for (const phrase of [
      '<channel source="claudemesh"',
      "display name",
      "lead",
      "member",
      "observer",
      "@frontend",
      "Broadcast",
      "Targeted views",
      "State or memory",
      "`now`",
      "`next`",
      "`low`",
      "set_summary",
    ]) {
      expect(file).toContain(phrase);
    }
  });
});
