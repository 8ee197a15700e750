import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

/**
 * The ranking of docs/ARCHITECTURE.md, lowest first. A file may import files of a lower layer, and files
 * of its own folder; never a higher layer, and never another folder of its own layer (features do not
 * import each other: they meet in frames, the host and the composition root).
 */
/** Built from every feature's schemas, so they rank above the feature frames. */
const UNIONS = ["protocol/frames.ts", "protocol/codec.ts", "protocol/activity.ts"];

export const LAYERS: { name: string; match: (path: string) => boolean }[] = [
  { name: "util", match: (p) => p.startsWith("util/") || p === "version.ts" },
  {
    name: "protocol base, crypto",
    match: (p) => p.startsWith("crypto/") || (p.startsWith("protocol/") && !UNIONS.includes(p)),
  },
  { name: "feature frames", match: (p) => /^[a-z-]+\/(frames|api)\.ts$/.test(p) && !p.startsWith("protocol/") },
  { name: "frame union", match: (p) => UNIONS.includes(p) },
  { name: "store, session, client transport", match: (p) => /^(store|blob|session|client)\//.test(p) },
  { name: "broker core and host", match: (p) => p.startsWith("broker/") },
  { name: "features", match: (p) => /^(meshes|presence|groups|messaging|state|memory|files|dashboard|nodes|metrics)\//.test(p) },
  { name: "mcp", match: (p) => p.startsWith("mcp/") },
  { name: "launch", match: (p) => p.startsWith("launch/") },
  { name: "install", match: (p) => p.startsWith("install/") },
  { name: "doctor", match: (p) => p.startsWith("doctor/") },
  { name: "composition root", match: (p) => p.startsWith("server/") },
  { name: "cli", match: (p) => p.startsWith("cli/") },
];

export function layerOf(path: string): number {
  const i = LAYERS.findIndex((l) => l.match(path));
  if (i < 0) throw new Error(`${path} is in no layer: add its folder to LAYERS and docs/ARCHITECTURE.md`);
  return i;
}

const folderOf = (path: string) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : path);

/** src-relative path → the src-relative files it imports at run time (type-only imports are erased). */
export type ImportMap = Map<string, string[]>;

const transpiler = new Bun.Transpiler({ loader: "ts" });

export function scanSrc(srcDir: string): ImportMap {
  const map: ImportMap = new Map();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) {
        // the CLI entry starts with a shebang, which is not TypeScript
        const code = readFileSync(full, "utf8").replace(/^#!.*/, "");
        const from = relative(srcDir, full);
        const targets = transpiler
          .scanImports(code)
          .filter((i) => i.path.startsWith("."))
          .map((i) => normalize(join(dirname(from), i.path)))
          // package.json and CLAUDEMESH.md live outside src/: data, not layers
          .filter((t) => !t.startsWith(".."));
        map.set(from, targets);
      }
    }
  };
  walk(srcDir);
  return map;
}

/** Every import that runs against the ranking, and every import circle, as readable lines. */
export function violations(map: ImportMap): string[] {
  const out: string[] = [];
  for (const [from, targets] of map) {
    for (const to of targets) {
      const lf = layerOf(from);
      const lt = layerOf(to);
      if (lt > lf) out.push(`${from} → ${to}: ${LAYERS[lf]?.name} may not import ${LAYERS[lt]?.name}`);
      else if (lt === lf && folderOf(from) !== folderOf(to)) out.push(`${from} → ${to}: two folders of layer "${LAYERS[lf]?.name}" import each other's code`);
    }
  }
  // Circles (within a folder, the only place the ranking allows them): depth-first search.
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const t of map.get(f) ?? []) {
      if (state.get(t) === "open") out.push(`import circle: ${[...stack.slice(stack.indexOf(t)), t].join(" → ")}`);
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of [...map.keys()].sort()) if (!state.has(f)) visit(f);
  return out;
}
