import type { Store } from "../../src/store/db.ts";

/** The store with its prepared reads (SQLite's `Store.prepared`) counted: `reads()` is how many ran there, not fell back. */
export function countPrepared(store: Store): { store: Store; reads: () => number } {
  const prepared = store.prepared;
  let reads = 0;
  const counted: Store = {
    ...store,
    prepared:
      prepared &&
      ((text, params) => {
        const rows = prepared(text, params);
        if (rows) reads++;
        return rows;
      }),
  };
  return { store: counted, reads: () => reads };
}
