import { expect, test } from "bun:test";
import { BrokerRotation } from "../../src/client/broker-urls.ts";

/** A fixed sequence of "random" numbers, so the drawn order is known. */
const seq = (...xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length] as number;
};

test("the mesh's own URL is tried first; every try that fails moves to the next, round and round", () => {
  const r = new BrokerRotation(["http://a", "http://b", "http://c"], false, seq(0.99, 0.99));
  expect(r.all).toEqual(["http://a", "http://b", "http://c"]);
  const tried = [];
  for (let i = 0; i < 7; i++) {
    tried.push(r.current);
    r.advance();
  }
  expect(tried).toEqual(["http://a", "http://b", "http://c", "http://a", "http://b", "http://c", "http://a"]);
});

test("the others are in an order drawn per session, so a dead node's sessions spread over the survivors", () => {
  expect(new BrokerRotation(["http://a", "http://b", "http://c", "http://d"], false, seq(0)).all).toEqual(["http://a", "http://c", "http://d", "http://b"]);
  const firsts = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const r = new BrokerRotation(["http://a", "http://b", "http://c", "http://d"], false);
    expect(r.current).toBe("http://a");
    expect([...r.all].sort()).toEqual(["http://a", "http://b", "http://c", "http://d"]);
    r.advance();
    firsts.add(r.current);
  }
  expect(firsts).toEqual(new Set(["http://b", "http://c", "http://d"]));
});

test("a broker's list replaces the known one and the connected URL stays current; the same set changes nothing", () => {
  const r = new BrokerRotation(["http://a"], false, seq(0.99));
  r.update(["http://a", "http://b"]);
  expect(r.all).toEqual(["http://a", "http://b"]);
  r.advance();
  expect(r.current).toBe("http://b");
  r.update(["http://a", "http://c", "http://b"]);
  expect(r.current).toBe("http://b");
  expect([...r.all].sort()).toEqual(["http://a", "http://b", "http://c"]);
  const order = [...r.all];
  r.update(["http://b", "http://c", "http://a"]);
  expect(r.all).toEqual(order);
  r.update([]);
  expect(r.all).toEqual(order);
});

test("one URL (a load balancer) is retried as it is; a pinned session keeps its one URL whatever a broker names", () => {
  const lb = new BrokerRotation(["https://mesh.example.com"], false);
  lb.advance();
  expect(lb.current).toBe("https://mesh.example.com");
  const pinned = new BrokerRotation(["http://b"], true);
  pinned.update(["http://a", "http://b", "http://c"]);
  pinned.advance();
  expect(pinned.all).toEqual(["http://b"]);
  expect(pinned.current).toBe("http://b");
  expect(() => new BrokerRotation([], false)).toThrow(/at least one broker URL/);
});
