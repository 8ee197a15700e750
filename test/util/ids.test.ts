import { expect, test } from "bun:test";
import { newId } from "../../src/util/ids.ts";

test("ids: prefix, length and base36 alphabet", () => {
  const id = newId("msg");
  expect(id).toMatch(/^msg_[0-9a-z]{16}$/);
  expect(newId("x", 5)).toMatch(/^x_[0-9a-z]{5}$/);
  expect(new Set(Array.from({ length: 1000 }, () => newId("m"))).size).toBe(1000);
});

test("ids: every character equally likely (byte % 36 made 0-3 about 1.3x as common as the rest)", () => {
  const counts = new Map<string, number>();
  const n = 200_000;
  for (let i = 0; i < n / 20; i++) for (const c of newId("m", 20).slice(2)) counts.set(c, (counts.get(c) ?? 0) + 1);
  expect(counts.size).toBe(36);
  const expected = n / 36;
  // chi-square, 35 degrees of freedom: a fair draw passes 95 but once in ~10^7 runs; the old bias scores ~390
  const chi = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  expect(chi).toBeLessThan(95);
});
