import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeClientFrame } from "../../src/protocol/codec.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { CLIENT_FRAME_TYPES } from "../../src/protocol/frames.ts";
import { poisoned } from "./arbitraries.ts";

function codeOf(raw: string): string {
  try {
    decodeClientFrame(raw, 1 << 20);
    return "ok";
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
}

describe("decodeClientFrame on hostile JSON", () => {
  test("a type whose conversion to text would throw is an unknown type, not an internal error", () => {
    expect(codeOf('{"type":{"toString":1}}')).toBe("unknown_type");
    expect(codeOf('{"type":{"toString":1,"valueOf":1}}')).toBe("unknown_type");
    expect(codeOf('{"type":[{"toString":1}]}')).toBe("unknown_type");
  });

  test("a field whose length zod's check cannot compare is an invalid frame, not an internal error", () => {
    expect(codeOf('{"type":"list_state","id":{"length":{"toString":[]}}}')).toBe("invalid_frame");
    expect(codeOf('{"type":"send","to":{"length":{"valueOf":1}},"message":"x"}')).toBe("invalid_frame");
  });

  test("ids and targets that no store could hold (NUL, a lone surrogate) are invalid frames, on either backend alike", () => {
    expect(codeOf('{"type":"message_status","messageId":"a\\u0000"}')).toBe("invalid_frame");
    expect(codeOf('{"type":"received","messageIds":["ok","\\ud800"]}')).toBe("invalid_frame");
    const send = (clientId: string, to: string) =>
      codeOf(JSON.stringify({ type: "send", clientId, to, kind: "group", group: { nonce: "A".repeat(32), ciphertext: "QQ==" } }));
    expect(send("c1", "Bob")).toBe("ok");
    expect(send("c\u0000", "Bob")).toBe("invalid_frame");
    expect(send("c1", "Bob\ud800")).toBe("invalid_frame");
    expect(codeOf('{"type":"received","messageIds":["msg_1","\\ud83d\\ude00"]}')).toBe("ok");
  });

  test("any JSON object, its keys chosen to poison conversions, decodes or fails with a WireError", () => {
    fc.assert(
      fc.property(poisoned.object, fc.oneof(fc.constant(undefined), fc.constantFrom(...CLIENT_FRAME_TYPES), poisoned.value), (frame, type) => {
        const raw = JSON.stringify(type === undefined ? frame : { ...frame, type });
        expect(["ok", "unknown_type", "invalid_frame"]).toContain(codeOf(raw));
      }),
      { numRuns: 2_000 },
    );
  });
});
