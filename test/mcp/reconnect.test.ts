import { afterAll, expect, test } from "bun:test";
import { startBroker } from "../../src/server/app.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, createMesh } from "../helpers/broker.ts";
import { baseEnv, cleanupMcp, configHome, sessionDir, startMcp } from "./helpers.ts";

const data = tempDir("cm-broker-late-");
afterAll(async () => {
  await cleanupMcp();
  data.cleanup();
});

test("a session started while the broker is down serves at once and joins when the broker comes up", async () => {
  const bin = await ensureBinary();
  const first = await startBroker({ port: 0, dataDir: data.path, limits: { pingIntervalMs: 60_000, sweepIntervalMs: 60_000 } });
  const mesh = await createMesh(first, "late");
  const member = await addMember(first, mesh, "late-member");
  const port = first.port;
  await first.stop();

  const mcp = await startMcp(bin, baseEnv({ CLAUDEMESH_HOME: configHome([member]), CLAUDEMESH_SESSION_DIR: sessionDir("late", "Early", null, "") }));
  expect(mcp.client.getInstructions()).toContain('"Early"');
  await mcp.waitForStderr(/cannot reach the broker; retrying/);

  const again = await startBroker({ port, dataDir: data.path, limits: { pingIntervalMs: 60_000, sweepIntervalMs: 60_000 } });
  try {
    const r = await mcp.call("list_peers");
    expect(r.isError).toBe(false);
    expect(r.data.peers.map((p: { name: string }) => p.name)).toEqual(["Early"]);
  } finally {
    await again.stop();
  }
});
