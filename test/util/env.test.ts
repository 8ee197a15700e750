import { expect, test } from "bun:test";
import { readEnv } from "../../src/util/env.ts";
import { ConfigError } from "../../src/util/errors.ts";

test("readEnv hands out the variables it knows, checked", () => {
  expect(readEnv({ CLAUDEMESH_MESH: "dev-team", CLAUDEMESH_DB_SCHEMA: "cm_a", UNRELATED: "x" })).toEqual({
    CLAUDEMESH_MESH: "dev-team",
    CLAUDEMESH_DB_SCHEMA: "cm_a",
  });
});

test("an invalid variable is a ConfigError naming it", () => {
  expect(() => readEnv({ CLAUDEMESH_DB_SCHEMA: "Robert'); DROP TABLE" })).toThrow(ConfigError);
  expect(() => readEnv({ CLAUDEMESH_DB_SCHEMA: "Robert'); DROP TABLE" })).toThrow(/CLAUDEMESH_DB_SCHEMA/);
});
