import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgument } from "../util/errors.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { newId } from "../util/ids.ts";

export const NODE_ID_FILE = "node-id";
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * This broker's node id: `--node-id` when given, else the one kept in the data dir, else a new one.
 * Whatever is used is kept in the data dir, so a restart is the same node (its sessions come back to it).
 */
export function resolveNodeId(dataDir: string, explicit?: string): string {
  const file = join(dataDir, NODE_ID_FILE);
  if (explicit !== undefined && !NODE_ID.test(explicit)) {
    throw new InvalidArgument(`invalid --node-id ${JSON.stringify(explicit)}: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  const kept = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  const id = explicit ?? (NODE_ID.test(kept) ? kept : newId("node", 12));
  if (id !== kept) writeFileAtomic(file, `${id}\n`, 0o644);
  return id;
}
