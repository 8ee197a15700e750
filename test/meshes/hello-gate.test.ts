import { describe, expect, test } from "bun:test";
import { type Admission, HelloGate } from "../../src/meshes/hello-gate.ts";

const admitted = (a: Admission) => (a.admitted ? a : null);
const hint = (a: Admission) => (a.admitted ? null : a.retryAfterMs);

describe("HelloGate", () => {
  test("admits up to its limit, refuses past it, and admits again once a hello leaves", () => {
    let now = 0;
    const gate = new HelloGate(2, () => now);
    const one = admitted(gate.enter());
    const two = admitted(gate.enter());
    expect(one && two).toBeTruthy();
    expect(gate.enter().admitted).toBe(false);
    one?.leave();
    // leaving twice frees one place, not two
    one?.leave();
    expect(gate.inFlight).toBe(1);
    expect(gate.enter().admitted).toBe(true);
    expect(gate.enter().admitted).toBe(false);
  });

  test("the refused are handed successive slots at the measured rate: limit / average time in flight", () => {
    let now = 0;
    const gate = new HelloGate(10, () => now);
    // ten hellos that each take 400 ms teach the gate its pace: 10 per 400 ms, a slot every 40 ms
    for (let round = 0; round < 40; round++) {
      const all = Array.from({ length: 10 }, () => admitted(gate.enter()));
      now += 400;
      for (const a of all) a?.leave();
    }
    const full = Array.from({ length: 10 }, () => gate.enter());
    expect(full.every((a) => a.admitted)).toBe(true);
    const hints = Array.from({ length: 5 }, () => hint(gate.enter()) as number);
    for (const [i, h] of hints.entries()) expect(h).toBeCloseTo(40 * (i + 1), -1);
    // time passing uses up the reserved slots: a refusal later is not queued behind slots already past
    now += 1_000;
    expect(hint(gate.enter())).toBeCloseTo(40, -1);
  });

  test("a hint is never below 20 ms nor above a minute, however fast or slow hellos are", () => {
    let now = 0;
    const fast = new HelloGate(1, () => now);
    // hellos that take no time at all: slots ~0 ms apart
    for (let i = 0; i < 100; i++) admitted(fast.enter())?.leave();
    fast.enter();
    expect(hint(fast.enter())).toBe(20);
    const slow = new HelloGate(1, () => now);
    const stuck = admitted(slow.enter());
    now += 10 * 60_000;
    stuck?.leave();
    slow.enter();
    for (let i = 0; i < 100; i++) expect(hint(slow.enter())).toBeLessThanOrEqual(60_000);
  });
});
