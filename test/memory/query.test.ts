import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fts5Expression, MAX_QUERY_WORDS, searchWords, tsqueryText } from "../../src/memory/query.ts";

describe("recall query words", () => {
  test("split on anything but letters and digits, lower-cased, de-duplicated, without stop words", () => {
    expect(searchWords("What is the Payments API rate-limit? (see src/api.ts)")).toEqual(["payments", "api", "rate", "limit", "see", "src", "ts"]);
    expect(searchWords('"NEAR(a b)" AND OR NOT * ^ -x')).toEqual(["near", "b", "x"]);
    expect(searchWords("Ünïcödé 東京 café2")).toEqual(["ünïcödé", "東京", "café2"]);
    expect(searchWords("the THE a an")).toEqual([]);
    expect(searchWords("İstanbul İ")).toEqual(["istanbul"]);
    expect(searchWords("x".repeat(129) + " ok")).toEqual(["ok"]);
    expect(searchWords(Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ")).length).toBe(MAX_QUERY_WORDS);
  });

  test("whatever the input, the engine only ever sees quoted words or plain words", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (q) => {
        const words = searchWords(q);
        for (const w of words) expect(w).toMatch(/^[\p{L}\p{N}\p{Co}]+$/u);
        expect(fts5Expression(words)).toMatch(/^("[\p{L}\p{N}\p{Co}]+"( OR "[\p{L}\p{N}\p{Co}]+")*)?$/u);
        expect(tsqueryText(words)).toMatch(/^([\p{L}\p{N}\p{Co}]+( or [\p{L}\p{N}\p{Co}]+)*)?$/u);
        expect(words).not.toContain("or");
      }),
      { numRuns: 1000 },
    );
  });
});
