import { describe, expect, test } from "bun:test";
import { resultChars, toCallResult } from "../../src/mcp/registry.ts";

describe("tool results within what Claude Code shows whole", () => {
  test("the room follows MAX_MCP_OUTPUT_TOKENS as Claude Code reads it: 80 % of 2 characters a token", () => {
    expect(resultChars({})).toBe(40_000);
    expect(resultChars({ MAX_MCP_OUTPUT_TOKENS: "1000" })).toBe(1_600);
    expect(resultChars({ MAX_MCP_OUTPUT_TOKENS: "100000" })).toBe(160_000);
    // what Claude Code would not take as a limit leaves the default
    for (const bad of ["", "0", "-5", "12.5", "abc", "9999999999"]) expect(resultChars({ MAX_MCP_OUTPUT_TOKENS: bad })).toBe(40_000);
  });

  test("a result too long for its fields keeps its text only; one that fits keeps both", () => {
    const peers = Array.from({ length: 50 }, (_, i) => ({ name: `peer-${i}`, sessionPubkey: "k".repeat(44), summary: "working on the payments API" }));
    const r = { text: `50 peers online:\n${peers.map((p) => `- ${p.name} · idle · "${p.summary}"`).join("\n")}`, data: { peers } };
    const whole = toCallResult(r);
    expect(whole.structuredContent).toEqual({ text: r.text, peers });
    const size = JSON.stringify(whole.structuredContent).length;
    expect(toCallResult(r, size).structuredContent).toEqual({ text: r.text, peers });
    const cut = toCallResult(r, size - 1);
    expect(cut.structuredContent).toEqual({ text: r.text });
    expect(cut.content).toEqual([{ type: "text", text: r.text }]);
    expect(JSON.stringify(cut.structuredContent).length).toBeLessThan(size / 2);
  });
});
