import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { Base64Key, BrokerUrl } from "../protocol/common.ts";
import { ConfigError, NotFoundError } from "../util/errors.ts";
import { writeSecretFile } from "../util/fs.ts";
// The names live in paths.ts so that `claudemesh hook` can use them without loading zod.
import { SESSION_FILE } from "./paths.ts";

/**
 * A launched session's private directory (0700), named by CLAUDEMESH_SESSION_DIR. `launch` writes it;
 * `mcp` and `hook` read it. It holds the session keypair so reconnects keep the same key.
 */
export const SessionInfo = z.object({
  version: z.literal(1),
  meshSlug: z.string(),
  displayName: z.string(),
  role: z.string().nullable(),
  /** "frontend:lead,reviewers" form */
  groups: z.string(),
  sessionKey: z.object({ publicKey: Base64Key, secretKey: z.string() }),
  createdAt: z.number(),
  /** pid of the `claudemesh launch` process that owns the dir */
  launcherPid: z.number(),
  /** `launch --broker`: the session's `mcp` uses this broker only and never fails over */
  broker: BrokerUrl.optional(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export function writeSessionInfo(dir: string, info: SessionInfo): void {
  writeSecretFile(join(dir, SESSION_FILE), JSON.stringify(info, null, 2) + "\n");
}

export function readSessionInfo(dir: string): SessionInfo {
  const file = join(dir, SESSION_FILE);
  if (!existsSync(file)) throw new NotFoundError(`no session at ${dir}`);
  const parsed = SessionInfo.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new ConfigError(`${file} is not a claudemesh session file`);
  return parsed.data;
}
