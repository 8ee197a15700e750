import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLIENT_FRAME_TYPES } from "../../src/protocol/frames.ts";

test("the broker transport names no feature frame: features register trackers instead", () => {
  const code = readFileSync(join(import.meta.dir, "../../src/client/broker-client.ts"), "utf8");
  const named = [...CLIENT_FRAME_TYPES].filter((t) => t !== "hello" && code.includes(`"${t}"`));
  expect(named).toEqual([]);
});
