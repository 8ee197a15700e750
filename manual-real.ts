import { join } from "node:path";
import { startTestBroker, createMesh } from "./test/helpers/broker.ts";
import { tempDir } from "./test/helpers/backends.ts";
import { writeSecretFile } from "./src/util/fs.ts";
import { FakeAnthropic, text } from "./test/e2e/fake-anthropic.ts";
import { claudeBin, claudeEnv, makeClaudeHome, tail } from "./test/e2e/claude-env.ts";
import { TmuxSession, passClaudeDialogs } from "./test/e2e/tmux.ts";
const b = await startTestBroker("sqlite");
const m = await createMesh(b, "dev-team");
const t = tempDir("cm-real-");
const cmHome = join(t.path, "cm");
writeSecretFile(join(cmHome, "config.json"), JSON.stringify({ version: 1, meshes: [m.owner] }));
const api = new FakeAnthropic({ handler: () => text("pong") });
const home = makeClaudeHome(t.path);
const debug = join(t.path, "debug.log");
const env = claudeEnv({ home, apiUrl: api.url, extra: { CLAUDEMESH_HOME: cmHome, CLAUDEMESH_CLAUDE_BIN: claudeBin()! } });
const s = TmuxSession.start("alice", [join(process.cwd(), "dist/claudemesh"), "launch", "--name", "Alice", "-y", "--", "--debug-file", debug], { env, cwd: t.path, dir: t.path });
try {
  console.log(await passClaudeDialogs(s));
  s.type("ping"); s.press("Enter");
  await s.waitFor("pong", 30000);
  const log = tail(debug, 100000);
  for (const re of [/Channel notifications registered/, /claudemesh/i, /hook/i]) console.log(re, re.test(log));
  console.log(log.split("\n").filter(l => /claudemesh|Hook|hook|channel/i.test(l)).slice(0, 40).join("\n"));
  console.log(s.screen());
} finally { s.kill(); await b.destroy(); }
