import { afterAll, describe, expect, test } from "bun:test";
import { FilesClient } from "../../src/files/client.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { UnexpectedAnswer } from "../../src/util/errors.ts";
import { fixedServer } from "../helpers/fixed-server.ts";

const server = fixedServer({
  "/files": [200, '{"files":[{"id":{"length":{"toString":1}}}]}'],
  "/files/hostile/status": [400, '{"error":{"code":"not_found","message":{"valueOf":1}}}'],
  "/files/gone/status": [404, '{"error":{"code":"not_found","message":"no such file"}}'],
});
afterAll(() => server.stop(true));
const files = new FilesClient(server.url.origin, () => "token");

describe("FilesClient against a broken or hostile broker", () => {
  test("JSON that makes zod's own checks throw is an unexpected answer, not a TypeError", async () => {
    expect(await files.list().catch((e) => e)).toBeInstanceOf(UnexpectedAnswer);
    expect(await files.status("hostile").catch((e) => e)).toBeInstanceOf(UnexpectedAnswer);
  });

  test("a well-formed error keeps its code and message", async () => {
    const err = await files.status("gone").catch((e) => e);
    expect(err).toBeInstanceOf(WireError);
    expect(err).toMatchObject({ code: "not_found", message: "no such file", httpStatus: 404 });
  });
});
