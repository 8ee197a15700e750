import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../helpers/binary.ts";
import { type ImportMap, layerOf, scanSrc, violations } from "./layers.ts";

const map = (entries: Record<string, string[]>): ImportMap => new Map(Object.entries(entries));

describe("layers", () => {
  test("src/ imports only down the ranking of docs/ARCHITECTURE.md, without circles", () => {
    const src = scanSrc(join(ROOT, "src"));
    expect(src.size).toBeGreaterThan(100);
    expect(src.get("cli/main.ts")?.length).toBeGreaterThan(0); // the shebang file is really scanned
    expect(violations(src)).toEqual([]);
  });

  test("every file of src/ is in a layer", () => {
    for (const f of scanSrc(join(ROOT, "src")).keys()) expect(() => layerOf(f)).not.toThrow();
  });

  describe("the check itself", () => {
    test("an import up the ranking fails", () => {
      expect(violations(map({ "util/fs.ts": ["protocol/errors.ts"], "protocol/errors.ts": [] }))).toEqual([
        "util/fs.ts → protocol/errors.ts: util may not import protocol base, crypto",
      ]);
      expect(violations(map({ "broker/broker.ts": ["meshes/repo.ts"], "meshes/repo.ts": [] }))).toHaveLength(1);
      expect(violations(map({ "messaging/tools.ts": ["mcp/channel.ts"], "mcp/channel.ts": [] }))).toHaveLength(1);
    });

    test("a feature importing another feature fails; importing its frames does not", () => {
      expect(violations(map({ "presence/tools.ts": ["groups/tools.ts"], "groups/tools.ts": [] }))).toEqual([
        `presence/tools.ts → groups/tools.ts: two folders of layer "features" import each other's code`,
      ]);
      expect(violations(map({ "presence/tools.ts": ["groups/frames.ts"], "groups/frames.ts": [] }))).toEqual([]);
    });

    test("an import circle fails, even inside one folder", () => {
      const found = violations(map({ "store/db.ts": ["store/migrate.ts"], "store/migrate.ts": ["store/db.ts"] }));
      expect(found).toEqual(["import circle: store/db.ts → store/migrate.ts → store/db.ts"]);
    });

    test("imports down the ranking pass", () => {
      expect(
        violations(
          map({
            "cli/main.ts": ["server/app.ts"],
            "server/app.ts": ["broker/broker.ts", "meshes/feature.ts"],
            "meshes/feature.ts": ["broker/host.ts"],
            "broker/host.ts": [],
            "broker/broker.ts": [],
          }),
        ),
      ).toEqual([]);
    });

    test("a file in no layer is reported, not silently allowed", () => {
      expect(() => violations(map({ "widgets/page.ts": ["util/log.ts"], "util/log.ts": [] }))).toThrow(/in no layer/);
    });
  });
});
