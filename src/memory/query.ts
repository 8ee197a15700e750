/**
 * Recall semantics, the same on both backends:
 *
 * - The query is split into words (runs of Unicode letters, digits and private-use characters, the
 *   token characters of SQLite's unicode61 tokenizer), lower-cased, de-duplicated, and stripped of the
 *   English stop words Postgres' `english` configuration ignores. Nothing else of the query reaches the
 *   search engine, so no input can produce FTS or SQL syntax, an error, or an injection.
 * - A memory matches if it contains ANY of the words (after stemming: "rate-limits" finds "rate limit").
 *   Results are ranked by relevance (SQLite: bm25; Postgres: ts_rank with length normalization), so a
 *   memory containing more of the words, more often, in less text, comes first.
 * - A blank query lists the most recent memories instead; a query with no searchable words (only stop
 *   words or punctuation) matches nothing.
 *
 * Stemmers differ slightly (SQLite: Porter; Postgres: Snowball/Porter2), e.g. only Postgres matches
 * "deploying" with "deployments"; common inflections (-s, -ing, -ed, -ion) agree.
 *
 * Documents are split the same way: Postgres indexes the content with ASCII punctuation turned into
 * spaces (see schema.ts), because its parser otherwise keeps "src/app.ts", "v1.2" or "a.example.com"
 * as single lexemes where SQLite sees separate words.
 */

/** Postgres' english.stop (snowball), verbatim. */
const STOP_WORDS = new Set(
  `i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
  herself it its itself they them their theirs themselves what which who whom this that these those am is
  are was were be been being have has had having do does did doing a an the and but if or because as until
  while of at by for with about against between into through during before after above below to from up
  down in out on off over under again further then once here there when where why how all any both each
  few more most other some such no nor not only own same so than too very s t can will just don should now`
    .split(/\s+/)
    .filter(Boolean),
);

export const MAX_QUERY_WORDS = 32;
/** Longer "words" are hashes or junk; they are dropped rather than sent to a tsquery (which caps lexemes). */
const MAX_WORD_CHARS = 128;
const WORD = /[\p{L}\p{N}\p{Co}]+/gu;
const NOT_WORD = /[^\p{L}\p{N}\p{Co}]/gu;

export function searchWords(query: string): string[] {
  const out = new Set<string>();
  for (const [raw] of query.matchAll(WORD)) {
    // lower-casing can add a combining mark ("İ" → "i" + U+0307), which no engine may see
    const w = raw.toLowerCase().replace(NOT_WORD, "");
    if (w.length > MAX_WORD_CHARS || STOP_WORDS.has(w)) continue;
    out.add(w);
    if (out.size >= MAX_QUERY_WORDS) break;
  }
  return [...out];
}

/** FTS5: every word a quoted string (words contain no quotes), OR-ed; the porter tokenizer stems each. */
export const fts5Expression = (words: string[]): string => words.map((w) => `"${w}"`).join(" OR ");

/** Postgres: input for websearch_to_tsquery, which never raises a syntax error; `or` is its OR operator. */
export const tsqueryText = (words: string[]): string => words.join(" or ");

/** ASCII punctuation Postgres indexes as spaces (see the header comment). */
export const ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
