import { afterAll, describe, expect, test } from "bun:test";
import { z } from "zod";
import { brokerRequest } from "../../src/client/http.ts";
import { WireError } from "../../src/protocol/wire-error.ts";
import { UnexpectedAnswer } from "../../src/util/errors.ts";
import { fixedServer } from "../helpers/fixed-server.ts";

const server = fixedServer({
  "/hostile-ok": [200, '{"name":{"length":{"toString":1}}}'],
  "/hostile-error": [400, '{"error":{"code":"invalid_frame","message":{"toString":1}}}'],
  "/unknown-code": [400, '{"error":{"code":"nope","message":"x"}}'],
  "/error": [409, '{"error":{"code":"slug_taken","message":"that slug is taken"}}'],
  "/bare-error": [404, '{"error":{"code":"not_found"}}'],
  "/ok": [200, '{"name":"alice"}'],
});
afterAll(() => server.stop(true));

const Named = z.object({ name: z.string().min(1).max(64) });
const call = (path: string) => brokerRequest(server.url.origin, "GET", path, Named);

describe("brokerRequest against a broken or hostile broker", () => {
  test("a well-formed answer and a well-formed error pass through", async () => {
    expect(await call("/ok")).toEqual({ name: "alice" });
    const err = await call("/error").catch((e) => e);
    expect(err).toBeInstanceOf(WireError);
    expect(err).toMatchObject({ code: "slug_taken", message: "that slug is taken", httpStatus: 409 });
    expect(await call("/bare-error").catch((e) => e)).toMatchObject({ code: "not_found", message: "broker answered HTTP 404" });
  });

  test("JSON that makes zod's own checks throw is an unexpected answer, not a TypeError", async () => {
    expect(await call("/hostile-ok").catch((e) => e)).toBeInstanceOf(UnexpectedAnswer);
    expect(await call("/hostile-error").catch((e) => e)).toBeInstanceOf(UnexpectedAnswer);
    expect(await call("/unknown-code").catch((e) => e)).toBeInstanceOf(UnexpectedAnswer);
  });
});
