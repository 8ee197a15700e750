import type { Store } from "../store/db.ts";
import { num } from "../store/db.ts";
import { newId } from "../util/ids.ts";
import type { Memory } from "./frames.ts";
import { fts5Expression, tsqueryText } from "./query.ts";

type Row = Record<string, unknown>;

const toMemory = (r: Row, score: number): Memory => ({
  id: String(r.id),
  content: String(r.content),
  tags: JSON.parse(String(r.tags)) as string[],
  rememberedBy: String(r.remembered_by_name),
  rememberedAt: num(r.remembered_at),
  score,
});

export interface RecallInput {
  meshId: string;
  /** Search words from `searchWords`; never raw user text. */
  words: string[];
  /** Only memories carrying every one of these (normalized) tags. */
  tags: string[];
  limit: number;
}

/**
 * Persistent mesh memory. Every query is scoped by mesh id and skips forgotten rows.
 * Tags travel as one JSON text parameter on both dialects, so the SQL has a fixed shape whatever their number.
 */
export class MemoryRepo {
  constructor(private readonly store: Store) {}

  async remember(input: { meshId: string; content: string; tags: string[]; memberId: string; name: string; now: number }): Promise<string> {
    const id = newId("mem");
    const { meshId, content, memberId, name, now } = input;
    const tags = JSON.stringify(input.tags);
    const sql = this.store.sql;
    if (this.store.dialect === "postgres") {
      await sql`
        INSERT INTO memory (id, mesh_id, content, tags, remembered_by, remembered_by_name, remembered_at)
        VALUES (${id}, ${meshId}, ${content}, ARRAY(SELECT jsonb_array_elements_text(${tags}::text::jsonb)), ${memberId}, ${name}, ${now})`;
    } else {
      await sql`
        INSERT INTO memory (id, mesh_id, content, tags, remembered_by, remembered_by_name, remembered_at)
        VALUES (${id}, ${meshId}, ${content}, ${tags}, ${memberId}, ${name}, ${now})`;
    }
    return id;
  }

  /** Ranked full-text search; ties go to the newer memory. */
  async recall({ meshId, words, tags, limit }: RecallInput): Promise<Memory[]> {
    if (words.length === 0) return [];
    const sql = this.store.sql;
    const tagsJson = JSON.stringify(tags);
    if (this.store.dialect === "postgres") {
      // The tsquery is built once in FROM: as an expression it would be re-parsed for every row under a
      // generic plan. Only the ranking runs over every match; the output columns are built for the winners.
      const rows: Row[] = await sql`
        SELECT m.id, m.content, array_to_json(m.tags)::text AS tags, m.remembered_by_name, m.remembered_at, r.score
        FROM (
          SELECT id, seq, remembered_at, ts_rank(search_vector, q, 1) AS score
          FROM memory, websearch_to_tsquery('english', ${tsqueryText(words)}) AS q
          WHERE mesh_id = ${meshId} AND forgotten_at IS NULL AND search_vector @@ q
            AND tags @> ARRAY(SELECT jsonb_array_elements_text(${tagsJson}::text::jsonb))
          ORDER BY score DESC, remembered_at DESC, seq DESC
          LIMIT ${limit}
        ) AS r JOIN memory m ON m.id = r.id
        ORDER BY r.score DESC, r.remembered_at DESC, r.seq DESC`;
      return rows.map((r) => toMemory(r, Number(r.score)));
    }
    // CROSS JOIN pins the join order: the FTS index first, never a per-row MATCH inside a scan of the mesh.
    const rows: Row[] = await sql`
      SELECT m.id, m.content, m.tags, m.remembered_by_name, m.remembered_at, bm25(memory_fts) AS rank
      FROM memory_fts CROSS JOIN memory m ON m.seq = memory_fts.rowid
      WHERE memory_fts MATCH ${fts5Expression(words)}
        AND m.mesh_id = ${meshId} AND m.forgotten_at IS NULL
        AND (${tagsJson} = '[]' OR NOT EXISTS (SELECT 1 FROM json_each(${tagsJson}) w WHERE w.value NOT IN (SELECT t.value FROM json_each(m.tags) t)))
      ORDER BY rank, m.remembered_at DESC, m.seq DESC
      LIMIT ${limit}`;
    // bm25 is negative, lower is better; flipped so a higher score means more relevant on both backends
    return rows.map((r) => toMemory(r, -Number(r.rank)));
  }

  /** The newest memories, for a blank query. */
  async recent({ meshId, tags, limit }: Omit<RecallInput, "words">): Promise<Memory[]> {
    const sql = this.store.sql;
    const tagsJson = JSON.stringify(tags);
    const rows: Row[] =
      this.store.dialect === "postgres"
        ? await sql`
          SELECT id, content, array_to_json(tags)::text AS tags, remembered_by_name, remembered_at
          FROM memory
          WHERE mesh_id = ${meshId} AND forgotten_at IS NULL
            AND tags @> ARRAY(SELECT jsonb_array_elements_text(${tagsJson}::text::jsonb))
          ORDER BY remembered_at DESC, seq DESC
          LIMIT ${limit}`
        : await sql`
          SELECT m.id, m.content, m.tags, m.remembered_by_name, m.remembered_at
          FROM memory m
          WHERE m.mesh_id = ${meshId} AND m.forgotten_at IS NULL
            AND (${tagsJson} = '[]' OR NOT EXISTS (SELECT 1 FROM json_each(${tagsJson}) w WHERE w.value NOT IN (SELECT t.value FROM json_each(m.tags) t)))
          ORDER BY m.remembered_at DESC, m.seq DESC
          LIMIT ${limit}`;
    return rows.map((r) => toMemory(r, 0));
  }

  /** Soft delete; false when the memory does not exist in this mesh or is already forgotten. */
  async forget(meshId: string, id: string, now: number): Promise<boolean> {
    const rows: Row[] = await this.store.sql`
      UPDATE memory SET forgotten_at = ${now}
      WHERE id = ${id} AND mesh_id = ${meshId} AND forgotten_at IS NULL
      RETURNING id`;
    return rows.length > 0;
  }
}
