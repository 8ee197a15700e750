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

  test("before its pace is measured, slots are guessed by Little's law: limit / average time in flight", () => {
    let now = 0;
    const gate = new HelloGate(10, () => now);
    // rounds of ten hellos entering together and leaving together 400 ms later: the gate is full only at
    // the first leave of a round, so no gap between full-gate leaves is measured, only the time in flight
    for (let round = 0; round < 40; round++) {
      const all = Array.from({ length: 10 }, () => admitted(gate.enter()));
      now += 400;
      for (const a of all) a?.leave();
    }
    expect(Array.from({ length: 10 }, () => gate.enter()).every((a) => a.admitted)).toBe(true);
    const hints = Array.from({ length: 5 }, () => hint(gate.enter()) as number);
    for (const [i, h] of hints.entries()) expect(h).toBeCloseTo(40 * (i + 1), -1);
  });

  test("once full, the pace is the measured gap between hellos finishing, and each refusal takes the next slot", () => {
    let now = 0;
    const gate = new HelloGate(4, () => now);
    const inFlight = Array.from({ length: 4 }, () => admitted(gate.enter()));
    // the node finishes one hello every 25 ms and admits the next in its place: always full
    for (let i = 0; i < 200; i++) {
      now += 25;
      inFlight.shift()?.leave();
      inFlight.push(admitted(gate.enter()));
    }
    const hints = Array.from({ length: 5 }, () => hint(gate.enter()) as number);
    expect(hints).toEqual([25, 50, 75, 100, 125]);
    // time passing uses up the reserved slots: a refusal later is not queued behind slots already past
    now += 1_000;
    expect(hint(gate.enter())).toBe(25);
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
