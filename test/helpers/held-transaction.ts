import type { Store } from "../../src/store/db.ts";

/**
 * A transaction on the store's connection that inserts `n` into `t` and stays open until `release()`:
 * a body that awaits other I/O keeps its transaction (and SQLite's write lock) across turns, what no body
 * of the broker does. `done` settles once it has committed.
 */
export function holdTransaction(store: Store, n: number): { release: () => void; done: Promise<void> } {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const done = store.sql.begin(async (tx) => {
    await tx`INSERT INTO t (n) VALUES (${n})`;
    await held;
  });
  return { release, done };
}
