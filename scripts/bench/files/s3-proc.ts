/**
 * A real S3-compatible server (s3rver) for the files bench, in a process of its own so its work does not
 * share the bench's event loop: `bun s3-proc.ts`. Prints one JSON line once listening, `{ endpoint }`,
 * with s3rver's fixed credentials; stops and removes its data on SIGTERM.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

const dir = mkdtempSync(join(tmpdir(), "cm-bench-s3-"));
const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir });
const { port } = (await server.run()) as { port: number };
console.log(JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, accessKey: "S3RVER", secretKey: "S3RVER", region: "us-east-1" }));
process.on("SIGTERM", async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
