import { expect, test } from "bun:test";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Checkpointer } from "../../src/store/checkpointer.ts";
import { openStore } from "../../src/store/db.ts";
import { tempDir } from "../helpers/backends.ts";
import { createMesh } from "../helpers/broker.ts";
import { ProcessBroker } from "../helpers/process-broker.ts";
import { waitUntil } from "../helpers/wait.ts";

const pragma = async (store: { sql: import("bun").SQL }, name: string) =>
  Number(((await store.sql.unsafe(`PRAGMA ${name}`)) as Record<string, unknown>[])[0]?.[name]);

// ~1,000 pages of WAL: past SQLite's default threshold, below the backstop the broker's connection keeps
const fill = async (sql: import("bun").SQL) => {
  await sql`CREATE TABLE IF NOT EXISTS t (x text)`;
  for (let i = 0; i < 20; i++) {
    await sql`INSERT INTO t SELECT hex(randomblob(500)) FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200) SELECT i FROM s)`;
  }
};

test("the worker checkpoints the WAL: the broker's connection does not, and the database file receives the pages", async () => {
  using dir = tempDir("cm-ckpt-");
  const store = await openStore({ dataDir: dir.path });
  const db = join(dir.path, "claudemesh.sqlite");
  try {
    expect(store.checkpoints?.failure).toBeNull();
    // the broker's connection keeps only a backstop, far above what this test writes
    expect(await pragma(store, "wal_autocheckpoint")).toBe(10_000);
    const seen: number[] = [];
    if (store.checkpoints) store.checkpoints.observe = (frames) => void seen.push(frames);
    const before = statSync(db).size;
    await fill(store.sql);
    // nothing but a checkpoint writes pages into the database file in WAL mode
    await waitUntil("a checkpoint", () => (statSync(db).size > before + 2_000_000 ? true : undefined));
    await waitUntil("the worker to report it", () => (seen.some((f) => f > 500) ? true : undefined));
  } finally {
    await store.close();
  }
  // the last connection to close checkpoints the rest and removes the WAL: the worker's was closed first
  expect(existsSync(`${db}-wal`)).toBe(false);
});

test("a worker that cannot start gives checkpoints back to the broker's connection, and says why", async () => {
  using dir = tempDir("cm-ckpt-");
  const store = await openStore({ dataDir: dir.path });
  try {
    await store.checkpoints?.stop();
    const broken = join(dir.path, "broken-worker.ts");
    writeFileSync(broken, 'throw new Error("no worker here");\n');
    const c = await Checkpointer.start(store.sql, join(dir.path, "claudemesh.sqlite"), { workerUrl: broken });
    expect(c.failure).toContain("no worker here");
    // SQLite's default again: the commit that passes 1,000 pages checkpoints, as without the worker
    expect(await pragma(store, "wal_autocheckpoint")).toBe(1_000);
    // a slow read runs on the broker's connection instead
    await store.sql`CREATE TABLE r (x int)`;
    await store.sql`INSERT INTO r VALUES (1), (2), (3)`;
    expect(await c.read("SELECT count(*) AS n FROM r WHERE x > ?", [1])).toEqual([{ n: 2 }]);
    expect(c.readsOffLoop).toBe(0);
    await c.stop(); // nothing left to stop
  } finally {
    await store.close();
  }
});

// A scrape counts every queued row (`claudemesh_queue_depth`): on the broker's connection that held the
// event loop ~7 ms at 400,000 rows, ~17 ms at a million, for every session, at every scrape.
test("slow reads run on the worker's connection, see what the broker committed, and fall back once it stops", async () => {
  using dir = tempDir("cm-ckpt-");
  const store = await openStore({ dataDir: dir.path });
  const c = store.checkpoints as Checkpointer;
  try {
    await store.sql`CREATE TABLE r (x int, s text)`;
    await store.sql`INSERT INTO r VALUES (1, 'a'), (2, 'it''s'), (3, 'ünï')`;
    const read = store.slowRead as NonNullable<typeof store.slowRead>;
    // several at once, answered each with its own rows
    const [all, some, none] = await Promise.all([
      read("SELECT x, s FROM r ORDER BY x", []),
      read("SELECT count(*) AS n FROM r WHERE x >= ?", [2]),
      read("SELECT x FROM r WHERE s = ?", ["nope"]),
    ]);
    expect(all).toEqual([
      { x: 1, s: "a" },
      { x: 2, s: "it's" },
      { x: 3, s: "ünï" },
    ]);
    expect(some).toEqual([{ n: 2 }]);
    expect(none).toEqual([]);
    expect(c.readsOffLoop).toBe(3);
    // what the broker commits next is what the next read sees
    await store.sql`INSERT INTO r VALUES (4, 'd')`;
    expect(await read("SELECT count(*) AS n FROM r", [])).toEqual([{ n: 4 }]);
    // a statement the worker's connection refuses is the reader's error, and the worker goes on
    const refused = await read("SELECT * FROM no_such_table", []).then(
      () => "answered",
      (err: Error) => err.message,
    );
    expect(refused).toMatch(/no such table/);
    expect(await read("SELECT count(*) AS n FROM r", [])).toEqual([{ n: 4 }]);
    expect(c.readsOffLoop).toBe(5);
    await c.stop();
    expect(await read("SELECT count(*) AS n FROM r", [])).toEqual([{ n: 4 }]);
    expect(c.readsOffLoop).toBe(5);
  } finally {
    await store.close();
  }
});

test("compiled, the broker's checkpoint worker runs (its entry is built into the binary)", async () => {
  await using pb = new ProcessBroker("sqlite");
  await pb.start();
  await createMesh(pb, "checkpointed"); // writes to the WAL
  const count = async () => {
    const res = await fetch(`${pb.url}/metrics`, { headers: { authorization: `Bearer ${pb.adminToken}` } });
    const line = (await res.text()).split("\n").find((l) => l.startsWith("claudemesh_db_checkpoint_seconds_count"));
    return Number(line?.split(" ")[1] ?? 0);
  };
  await waitUntil("a checkpoint in the compiled broker", async () => ((await count()) > 0 ? true : undefined));
});
