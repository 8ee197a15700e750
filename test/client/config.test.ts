import { afterAll, beforeEach, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { brokerList, brokerPin, configPath, loadConfig, meshBrokers, rememberBrokers, saveConfig } from "../../src/client/config.ts";
import { generateSigningKeyPair } from "../../src/crypto/keys.ts";
import { ensurePrivateDir } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";

const home = tempDir("cm-config-");
const previousHome = process.env.CLAUDEMESH_HOME;
afterAll(() => {
  if (previousHome === undefined) delete process.env.CLAUDEMESH_HOME;
  else process.env.CLAUDEMESH_HOME = previousHome;
  home.cleanup();
});
beforeEach(() => {
  process.env.CLAUDEMESH_HOME = home.path;
  ensurePrivateDir(home.path);
});

/** A mesh entry as a claudemesh before #14 wrote it: one `brokerUrl`, no list. */
const oldMesh = (slug: string, brokerUrl: string) => ({
  slug,
  meshId: `mesh_${slug}`,
  brokerUrl,
  memberId: `mbr_${slug}`,
  displayName: "Dana",
  role: "member",
  ...(({ publicKey, secretKey }) => ({ pubkey: publicKey, secretKey }))(generateSigningKeyPair()),
  rootKey: null,
  joinedAt: 0,
});

const writeRaw = (config: unknown) => writeFileSync(configPath(), JSON.stringify(config), { mode: 0o600 });

test("an old config with only brokerUrl reads as a list of that one URL, and is written back with the list", () => {
  writeRaw({ version: 1, meshes: [oldMesh("team", "http://10.0.0.1:7900/"), oldMesh("odd", "ws://10.0.0.2:7900")] });
  const [team, odd] = loadConfig().meshes;
  expect(team?.brokerUrl).toBe("http://10.0.0.1:7900/");
  expect(team?.brokers).toEqual(["http://10.0.0.1:7900"]);
  // a URL no session could dial as a broker list entry stays what it was, and still reads
  expect(odd?.brokers).toBeUndefined();
  expect(meshBrokers(odd as NonNullable<typeof odd>)).toEqual(["ws://10.0.0.2:7900"]);

  saveConfig(loadConfig());
  const onDisk = JSON.parse(readFileSync(configPath(), "utf8"));
  expect(onDisk.meshes[0].brokers).toEqual(["http://10.0.0.1:7900"]);
  expect(statSync(configPath()).mode & 0o777).toBe(0o600);
});

test("a list that is not http(s) URLs makes the config unreadable, with the reason", () => {
  writeRaw({ version: 1, meshes: [{ ...oldMesh("team", "http://a:1"), brokers: ["file:///etc/passwd"] }] });
  expect(() => loadConfig()).toThrow(/is not a claudemesh config/);
  writeRaw({ version: 1, meshes: [{ ...oldMesh("team", "http://a:1"), brokers: [] }] });
  expect(() => loadConfig()).toThrow(/is not a claudemesh config/);
});

test("brokerList: the mesh's own URL first, each URL once, trailing slashes aside", () => {
  expect(brokerList("http://lb:1/", ["http://b:2", "http://lb:1", "http://a:3/", "http://b:2/"])).toEqual(["http://lb:1", "http://b:2", "http://a:3"]);
  expect(brokerList("http://lb:1", [])).toEqual(["http://lb:1"]);
});

test("rememberBrokers saves a changed list atomically (0600), keeps the other meshes, and skips an unchanged one", () => {
  const other = oldMesh("other", "http://o:1");
  writeRaw({ version: 1, meshes: [oldMesh("team", "http://a:1"), other] });
  expect(rememberBrokers("mesh_team", ["http://b:2", "http://a:1"])).toBe(true);
  const saved = loadConfig();
  expect(saved.meshes.find((m) => m.slug === "team")?.brokers).toEqual(["http://a:1", "http://b:2"]);
  expect(saved.meshes.find((m) => m.slug === "other")).toMatchObject({ brokerUrl: "http://o:1", secretKey: other.secretKey });
  expect(statSync(configPath()).mode & 0o777).toBe(0o600);

  const before = statSync(configPath()).mtimeMs;
  expect(rememberBrokers("mesh_team", ["http://a:1", "http://b:2"])).toBe(false);
  expect(statSync(configPath()).mtimeMs).toBe(before);
  // a node that left the cluster leaves the list; the mesh's own URL never does
  expect(rememberBrokers("mesh_team", ["http://c:3"])).toBe(true);
  expect(loadConfig().meshes.find((m) => m.slug === "team")?.brokers).toEqual(["http://a:1", "http://c:3"]);
  // a mesh this machine has left is not written back
  expect(rememberBrokers("mesh_gone", ["http://c:3"])).toBe(false);
});

test("brokerPin takes an http(s) URL and nothing else", () => {
  expect(brokerPin(" https://node-b.example.com:7900/ ")).toBe("https://node-b.example.com:7900");
  for (const bad of ["node-b:7900", "ws://node-b:7900", "", "javascript:alert(1)"]) expect(() => brokerPin(bad)).toThrow(/--broker must be a broker's http/);
});
