import { expect, test } from "bun:test";
import { newId, newSortableId } from "../../src/util/ids.ts";

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

test("sortable ids: the time first, fixed width, so later ids sort later; unique within one millisecond", () => {
  expect(newSortableId("msg", 0)).toMatch(/^msg_000000000[0-9a-z]{12}$/);
  const times = [1, 35, 36, 1_700_000_000_000, 1_800_000_000_000, 99_999_999_999_999];
  const ids = times.map((t) => newSortableId("msg", t));
  expect([...ids].sort()).toEqual(ids);
  for (const id of ids) expect(id).toMatch(/^msg_[0-9a-z]{21}$/);
  const same = Array.from({ length: 10_000 }, () => newSortableId("m", 1_800_000_000_000));
  expect(new Set(same).size).toBe(same.length);
  // within one millisecond they count up: later still sorts later
  expect([...same].sort()).toEqual(same);
  for (const id of same) expect(id).toMatch(/^m_[0-9a-z]{21}$/);
  // the next millisecond's ids sort after all of them, and count up again among themselves
  const next = [newSortableId("m", 1_800_000_000_001), newSortableId("m", 1_800_000_000_001)];
  expect([...same, ...next].sort()).toEqual([...same, ...next]);
  expect(next[0]).not.toBe(next[1]);
  const before = Date.now();
  const at = Number.parseInt(newSortableId("m").slice(2, 11), 36);
  expect(at).toBeGreaterThanOrEqual(before);
  expect(at).toBeLessThanOrEqual(Date.now());
});
