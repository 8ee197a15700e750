import { expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { claudemeshHome } from "../src/util/home.ts";

test("tests run with a temp HOME and CLAUDEMESH_HOME (bunfig.toml preload)", () => {
  expect(process.env.HOME?.startsWith(tmpdir())).toBe(true);
  expect(claudemeshHome()).toBe(`${process.env.HOME}/.claudemesh`);
});
