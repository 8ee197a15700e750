import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeClientFrame } from "../../src/protocol/codec.ts";
import { CLIENT_FRAME_TYPES, ClientFrame, ServerFrame } from "../../src/protocol/frames.ts";
import { clientFrames, serverFrames } from "./arbitraries.ts";

const SERVER_TYPES = ServerFrame.options.map((o) => o.shape.type.value).sort();

describe("frame round trips (fast-check)", () => {
  test("every frame type has a generator", () => {
    expect(Object.keys(clientFrames).sort()).toEqual([...CLIENT_FRAME_TYPES].sort());
    expect(Object.keys(serverFrames).sort()).toEqual(SERVER_TYPES);
  });

  for (const [type, arb] of Object.entries(clientFrames)) {
    test(`client ${type}: parse → encode → decode is the identity`, () => {
      fc.assert(
        fc.property(arb, (raw) => {
          const parsed = ClientFrame.parse(raw);
          expect(parsed.type).toBe(type as never);
          expect(decodeClientFrame(JSON.stringify(parsed), 1 << 20)).toEqual(parsed);
        }),
        { numRuns: 200 },
      );
    });
  }

  for (const [type, arb] of Object.entries(serverFrames)) {
    test(`server ${type}: encode → decode is the identity`, () => {
      fc.assert(
        fc.property(arb, (frame) => {
          expect(ServerFrame.parse(JSON.parse(JSON.stringify(frame)))).toEqual(frame as never);
        }),
        { numRuns: 200 },
      );
    });
  }
});
