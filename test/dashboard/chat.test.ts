import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, closeClients, createMesh, type TestMesh } from "../helpers/broker.ts";
import { messagingPeer, type TestPeer } from "../helpers/messaging.ts";
import type { ProcessBroker } from "../helpers/process-broker.ts";
import { loggedBroker } from "./helpers.ts";
import { baseEnv, cleanupMcp, configHome, type McpHandle, sessionDir, startMcp } from "../mcp/helpers.ts";
import { ARTIFACTS, describeBrowser, launchChromium } from "./chromium.ts";

const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

/** Every byte the broker keeps on disk: the SQLite database, its WAL, everything in the data dir. */
function dataDirBytes(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) parts.push(readFileSync(join(e.parentPath, e.name)));
  }
  return Buffer.concat(parts);
}

describeBrowser("the dashboard's seat at the table: a human in the mesh, end-to-end encrypted in the page", () => {
  let pb: ProcessBroker;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  let mesh: TestMesh;
  let alice: MeshConfig;
  let bob: McpHandle;
  let carol: TestPeer;
  const home = tempDir("cm-chat-home-");
  let brokerLog: () => string;

  beforeAll(async () => {
    ({ pb, log: brokerLog } = await loggedBroker());
    mesh = await createMesh(pb, "table");
    alice = await addMember(pb, mesh, "alice");
    const bobM = await addMember(pb, mesh, "bob");
    carol = await messagingPeer(await addMember(pb, mesh, "carol"), { groups: [{ name: "frontend", role: null }] });
    writeSecretFile(join(home.path, "config.json"), JSON.stringify({ version: 1, meshes: [alice] }));
    // Bob is a Claude Code session's MCP server: the compiled `claudemesh mcp`, pushing channel notifications.
    bob = await startMcp(
      await ensureBinary(),
      baseEnv({ CLAUDEMESH_HOME: configHome([bobM]), CLAUDEMESH_SESSION_DIR: sessionDir("table", "bob", null, "backend") }),
    );
    expect((await bob.call("list_peers")).isError).toBe(false);
    chrome = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    closeClients();
    await cleanupMcp();
    await chrome?.close();
    await pb?.destroy();
    home.cleanup();
  });

  async function cli(...args: string[]): Promise<string> {
    const p = Bun.spawn([await ensureBinary(), "dashboard", ...args], { env: { ...process.env, CLAUDEMESH_HOME: home.path }, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(`${code} ${err}`).toBe("0 ");
    return out.trim();
  }

  test("the page joins as `alice (human)`, talks to a Claude session's MCP server, @groups and everyone, reads replies; the broker keeps only ciphertext", async () => {
    const url = (await cli("--no-open")).split("\n").pop() ?? "";
    const sessionSecret = new URLSearchParams(url.split("#")[1]).get("sk") ?? "";
    expect(sessionSecret.length).toBe(88);
    const page = await chrome.context.newPage();
    const requested: string[] = [];
    page.on("request", (r) => requested.push(r.url()));
    page.on("websocket", (ws) => requested.push(ws.url()));
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(url);
    await page.waitForURL(`${pb.url}/dashboard`);
    await page.getByRole("link", { name: "Chat" }).click();
    await page.locator('.chat-status[data-state="online"]').waitFor();
    expect(await page.locator(".chat-status").textContent()).toContain("alice (human)");
    // The compiled binary's page, tweetnacl and the envelopes included, stays within its budget.
    const html = await (await page.request.get(`${pb.url}/dashboard`)).text();
    const assets = [...html.matchAll(/(?:src|href)="([^"#]+\.(?:js|css))"/g)].map((m) => m[1] ?? "");
    expect(assets.length).toBeGreaterThanOrEqual(2);
    let bytes = 0;
    for (const a of assets) bytes += (await (await fetch(new URL(a, pb.url))).arrayBuffer()).byteLength;
    expect(bytes).toBeLessThanOrEqual(300 * 1024);
    // The Chat view starts empty, and says so.
    await page.getByText("No messages yet").waitFor();

    // The page is a peer: Bob's Claude session sees the human in list_peers.
    const peers = await bob.call("list_peers");
    expect(peers.text).toContain("alice (human)");

    // A direct message, sealed in the page for Bob's session key, pushed into Bob's conversation.
    const direct = `please review PR 42 — from the page ${crypto.randomUUID()}`;
    await page.getByLabel("To").selectOption("bob");
    await page.getByLabel("Message", { exact: true }).fill(direct);
    await page.getByRole("button", { name: "Send" }).click();
    const note = await bob.nextChannel((n) => n.content.includes(direct));
    expect(note.meta).toMatchObject({ from_name: "alice (human)" });
    await page.locator(".msg.out", { hasText: direct }).waitFor();
    expect(await page.locator(".msg.out", { hasText: direct }).textContent()).toContain("you → bob");

    // Bob answers with the MCP tool; the reply appears in the page, opened there.
    const reply = `on it, reviewing now ${crypto.randomUUID()}`;
    const sent = await bob.call("send_message", { to: "alice (human)", message: reply });
    expect(sent.isError).toBe(false);
    await page.locator(".msg.in", { hasText: reply }).waitFor();
    expect(await page.locator(".msg.in", { hasText: reply }).textContent()).toContain("bob");
    // Acknowledged like a client's: Bob's message_status sees it received (and shown).
    const status = await bob.call("message_status", { id: sent.data.messageId });
    expect(status.data.recipients).toMatchObject([{ name: "alice (human)", status: "surfaced" }]);

    // @group and broadcast: sealed under the mesh key from the fragment; a CLI client opens them.
    const toGroup = `frontend folks, look at the header ${crypto.randomUUID()}`;
    await page.getByLabel("To").selectOption("@frontend");
    await page.getByLabel("Message", { exact: true }).fill(toGroup);
    await page.getByLabel("Message", { exact: true }).press("Enter");
    expect(await carol.next()).toMatchObject({ text: toGroup, fromName: "alice (human)", kind: "group", authenticated: true });
    const toAll = `standup in five ${crypto.randomUUID()}`;
    await page.getByLabel("To").selectOption("*");
    await page.getByLabel("Priority").selectOption("now");
    await page.getByLabel("Message", { exact: true }).fill(toAll);
    await page.getByRole("button", { name: "Send" }).click();
    expect(await carol.next()).toMatchObject({ text: toAll, priority: "now", kind: "group" });
    await bob.nextChannel((n) => n.content.includes(toAll));
    // The page shows whom the broker routed a broadcast to.
    expect(await page.locator(".msg.out", { hasText: toAll }).textContent()).toMatch(/everyone \((carol, bob|bob, carol)\)/);
    // Carol's group reply reaches the page too.
    const groupReply = `header fixed ${crypto.randomUUID()}`;
    await carol.messenger.send("*", groupReply, "now");
    await page.locator(".msg.in", { hasText: groupReply }).waitFor();

    // The human shows among the peers, as any session does.
    await page.getByRole("link", { name: "Peers", exact: true }).click();
    await page.locator('[data-peer="alice (human)"]').waitFor();

    // Screenshots of the chat, desktop and phone, light and dark.
    await page.getByRole("link", { name: "Chat" }).click();
    await page.locator(".chat-log").waitFor();
    for (const [size, viewport] of Object.entries(SIZES)) {
      await page.setViewportSize(viewport);
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(ARTIFACTS, `chat-${size}-${scheme}.png`), fullPage: true });
      }
    }
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });

    // --revoke ends the page's session at once; the page says why and stops.
    expect(await cli("--revoke")).toContain("1 live session ended");
    await page.locator('.chat-status[data-state="ended"]').waitFor();
    expect(await page.locator(".chat-status").textContent()).toContain("revoked");
    expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.close();

    // The session secret never reached the broker: not in a request, a WebSocket URL or the request log.
    for (const u of requested) {
      expect(u).not.toContain(sessionSecret);
      expect(u).not.toContain(encodeURIComponent(sessionSecret));
      expect(u).not.toContain(mesh.rootKey);
    }
    await pb.stop();
    expect(brokerLog()).not.toContain(sessionSecret);
    expect(brokerLog()).not.toContain(encodeURIComponent(sessionSecret));
    // Everything the broker stored: the messages are there (their ids), their text is not.
    const disk = dataDirBytes(pb.dir.path);
    expect(disk.includes(Buffer.from(sent.data.messageId))).toBe(true);
    for (const text of [direct, reply, toGroup, toAll, groupReply]) {
      expect(disk.includes(Buffer.from(text))).toBe(false);
      // the unique tail alone, in case a prefix was split across pages
      expect(disk.includes(Buffer.from(text.slice(-36)))).toBe(false);
    }
  }, 180_000);
});
