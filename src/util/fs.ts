import { chmodSync, existsSync, mkdirSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Creates a private directory (0700), tightening it if it already exists. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Atomic replace (temp file + rename in the same dir) with `mode` from the first byte on. With
 * `followSymlink`, a symlinked file (dotfile managers) is written through the link rather than replaced.
 */
export function writeFileAtomic(path: string, content: string, mode: number, opts: { followSymlink?: boolean } = {}): void {
  const target = opts.followSymlink && existsSync(path) ? realpathSync(path) : path;
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.claudemesh-${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, target);
}

/** Writes a secret file atomically with mode 0600 (never world-readable, not even briefly), in a 0700 dir. */
export function writeSecretFile(path: string, content: string): void {
  ensurePrivateDir(dirname(path));
  writeFileAtomic(path, content, 0o600);
}
