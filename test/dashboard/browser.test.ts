import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { MeshConfig } from "../../src/client/config.ts";
import { writeSecretFile } from "../../src/util/fs.ts";
import { tempDir } from "../helpers/backends.ts";
import { ensureBinary } from "../helpers/binary.ts";
import { addMember, closeClients, createMesh, type TestMesh } from "../helpers/broker.ts";
import { sessionFiles } from "../helpers/files.ts";
import { messagingPeer } from "../helpers/messaging.ts";
import type { ProcessBroker } from "../helpers/process-broker.ts";
import { loggedBroker } from "./helpers.ts";
import { ARTIFACTS, describeBrowser, launchChromium } from "./chromium.ts";

const VIEWS = ["Peers", "State", "Memory", "Files", "Activity", "Chat"] as const;
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

/** Screenshots of every view at desktop and phone width, light and dark, into the artifacts dir. */
async function screenshots(
  page: Page,
  prefix: string,
  sizes: (keyof typeof SIZES)[] = ["desktop", "phone"],
  schemes: ("light" | "dark")[] = ["light", "dark"],
) {
  for (const view of VIEWS) {
    await page.getByRole("link", { name: view, exact: true }).click();
    await page.locator(`h2`).first().waitFor();
    for (const size of sizes) {
      await page.setViewportSize(SIZES[size]);
      // every view's tab in sight, the current one's bold label included: no tab bar to scroll sideways
      const bar = await page.locator(".tabs").evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
      expect(bar.scroll, `the tab bar overflows at ${size} width on ${view}`).toBeLessThanOrEqual(bar.client);
      for (const scheme of schemes) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(ARTIFACTS, `${prefix}-${view.toLowerCase()}-${size}-${scheme}.png`), fullPage: true });
      }
    }
  }
  await page.setViewportSize(SIZES.desktop);
  await page.emulateMedia({ colorScheme: "light" });
}

describeBrowser("dashboard in chromium against the compiled broker", () => {
  let pb: ProcessBroker;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  let mesh: TestMesh;
  let alice: MeshConfig;
  let bob: MeshConfig;
  let carol: MeshConfig;
  const home = tempDir("cm-dash-home-");
  let brokerLog: () => string;

  beforeAll(async () => {
    ({ pb, log: brokerLog } = await loggedBroker());
    mesh = await createMesh(pb, "team");
    alice = await addMember(pb, mesh, "alice");
    bob = await addMember(pb, mesh, "bob");
    carol = await addMember(pb, mesh, "carol");
    writeSecretFile(join(home.path, "config.json"), JSON.stringify({ version: 1, meshes: [alice] }));
    chrome = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    closeClients();
    await chrome?.close();
    await pb?.destroy();
    home.cleanup();
  });

  async function cliLoginUrl(): Promise<string> {
    const p = Bun.spawn([await ensureBinary(), "dashboard", "--no-open"], {
      env: { ...process.env, CLAUDEMESH_HOME: home.path },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(`${code} ${err}`).toBe("0 ");
    return out.trim().split("\n").pop() ?? "";
  }

  test("log in with the CLI's URL; peers, status, state, memory and activity update live; logout", async () => {
    const url = await cliLoginUrl();
    expect(url).toStartWith(`${pb.url}/dashboard/login/`);
    expect(url).toContain(`#root=${mesh.rootKey}`);

    const page = await chrome.context.newPage();
    const requested: string[] = [];
    page.on("request", (r) => requested.push(r.url()));
    await page.goto(url);
    // The page keeps the fragment to itself and takes it out of the address bar.
    await page.waitForURL(`${pb.url}/dashboard`);
    // "No other peers" once the page's own session has joined: it is a peer too.
    await page.getByText("peers online — start one with").waitFor();
    const kept = new URLSearchParams((await page.evaluate(() => sessionStorage.getItem("claudemesh.fragment"))) ?? "");
    expect(kept.get("root")).toBe(mesh.rootKey);
    const sessionSecret = kept.get("sk") ?? "";
    expect(sessionSecret.length).toBe(88);
    await page.locator("#live.on").waitFor();
    // Marks this document: if anything below reloaded the page, the mark would be gone.
    await page.evaluate(() => ((window as unknown as { mark: string }).mark = "same document"));
    await screenshots(page, "empty", ["desktop", "phone"], ["light", "dark"]);

    // Peers: one appears live, its status change shows, the group filter narrows the list.
    await page.getByRole("link", { name: "Peers", exact: true }).click();
    const b = await messagingPeer(bob, { groups: [{ name: "backend", role: "lead" }] });
    const card = page.locator('[data-peer="bob"]');
    await card.waitFor();
    expect(await card.locator(".status").textContent()).toBe("idle");
    expect(await card.textContent()).toContain("@backend · lead");
    await b.client.request({ type: "set_status", status: "working" }, "ok");
    await card.locator(".status.working").waitFor();
    await b.client.request({ type: "set_summary", summary: "refactoring the auth module" }, "ok");
    await card.getByText("refactoring the auth module").waitFor();
    const c = await messagingPeer(carol, { groups: [{ name: "frontend", role: null }] });
    await page.locator('[data-peer="carol"]').waitFor();
    await page.getByLabel("Filter by group").selectOption("backend");
    await page.locator('[data-peer="carol"]').waitFor({ state: "detached" });
    expect(await page.locator(".peer").count()).toBe(1);
    await page.getByLabel("Filter by group").selectOption("");
    await page.locator('[data-peer="carol"]').waitFor();

    // State: a set_state from a peer appears (and flashes) without a reload.
    await page.getByRole("link", { name: "State", exact: true }).click();
    await page.getByText("No shared state yet").waitFor();
    await b.client.request({ type: "set_state", key: "deploy", value: { env: "prod", version: "1.4.2", ok: true } }, "state_result");
    const entry = page.locator('[data-key="deploy"]');
    await entry.waitFor();
    expect(JSON.parse((await entry.locator("pre").textContent()) ?? "null")).toEqual({ env: "prod", version: "1.4.2", ok: true });
    expect(await entry.textContent()).toContain("by bob");
    await c.client.request({ type: "set_state", key: "deploy", value: { env: "prod", version: "1.4.3", ok: true } }, "state_result");
    await entry.getByText('"1.4.3"').waitFor();
    expect(await entry.textContent()).toContain("by carol");

    // Memory: search finds a remembered fact, forget (confirmed) removes it for the whole mesh.
    const { memoryId } = await b.client.request(
      { type: "remember", content: "The staging database listens on port 5433", tags: ["db", "staging"] },
      "memory_stored",
    );
    await c.client.request({ type: "remember", content: "Release notes live in docs/RELEASES.md", tags: ["docs"] }, "memory_stored");
    await page.getByRole("link", { name: "Memory", exact: true }).click();
    await page.getByLabel("Search memory").fill("staging database");
    await page.getByLabel("Search memory").press("Enter");
    // The blank listing may still be on screen: wait for the search's own result list.
    const results = page.locator('ol[aria-label="results for staging database, best first"]');
    await results.waitFor();
    const hit = results.locator(`[data-memory="${memoryId}"]`);
    await hit.waitFor();
    expect(await results.locator(".memory").count()).toBe(1);
    expect(await hit.locator(".chip").allTextContents()).toEqual(["db", "staging"]);
    page.once("dialog", (d) => void d.accept());
    await hit.getByRole("button", { name: /Forget/ }).click();
    await hit.waitFor({ state: "detached" });
    await page.getByText("Nothing remembered matches").waitFor();
    expect((await b.client.request({ type: "recall", query: "staging database" }, "memory_results")).memories).toEqual([]);
    await page.getByLabel("Search memory").fill("");
    await page.getByLabel("Search memory").press("Enter");
    await page.locator('ol[aria-label="newest memories"]').getByText("Release notes live in docs/RELEASES.md").waitFor();

    // Files: shared/ by tag, recent/ attachments by date; download with identical bytes; drag-and-drop
    // upload reaches list_files; delete (confirmed).
    await page.getByRole("link", { name: "Files", exact: true }).click();
    await page.getByText("No files yet").waitFor();
    const bobFiles = sessionFiles(pb, b.client);
    const notesPath = join(home.path, "deploy-notes.md");
    writeFileSync(notesPath, "# Deploy\n\n1. CI green\n2. tag\n3. ship 🚀\n");
    const notes = await bobFiles.upload(notesPath, { tags: ["docs", "ops"] });
    const docsRow = page.locator('[data-folder="docs"]').locator(`[data-file="${notes.id}"]`);
    await docsRow.waitFor();
    await page.locator('[data-folder="ops"]').locator(`[data-file="${notes.id}"]`).waitFor();
    expect(await docsRow.textContent()).toContain("by bob");
    expect(await docsRow.textContent()).toContain("0 downloads");
    const a = await messagingPeer(alice);
    const attachPath = join(home.path, "screenshot.txt");
    writeFileSync(attachPath, "an attachment for bob");
    const attached = await sessionFiles(pb, a.client).upload(attachPath, { to: "bob" });
    a.client.close();
    // attachments raise no live event: switching views reloads the list
    await page.getByRole("link", { name: "State", exact: true }).click();
    await page.getByRole("link", { name: "Files", exact: true }).click();
    await page.locator('[data-folder="recent"]').locator(`[data-file="${attached.id}"]`).waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), docsRow.getByRole("link", { name: "deploy-notes.md" }).click()]);
    expect(download.suggestedFilename()).toBe("deploy-notes.md");
    expect(readFileSync((await download.path()) ?? "")).toEqual(readFileSync(notesPath));
    const dropped = "dropped from the browser: ünïcödé and bytes\u0000\u0001";
    const dt = await page.evaluateHandle((text) => {
      const t = new DataTransfer();
      t.items.add(new File([text], "from-the-browser.txt", { type: "text/plain" }));
      return t;
    }, dropped);
    await page.getByLabel("Tags").fill("design");
    await page.dispatchEvent("#dropzone", "drop", { dataTransfer: dt });
    const droppedRow = page.locator('[data-folder="design"]').locator(".file", { hasText: "from-the-browser.txt" });
    await droppedRow.waitFor();
    const listed = (await bobFiles.list()).find((f) => f.name === "from-the-browser.txt");
    expect(listed).toMatchObject({ uploadedBy: "alice", tags: ["design"], persistent: true });
    const got = await bobFiles.download(listed!.id, home.path);
    expect(readFileSync(got.path, "utf8")).toBe(dropped);
    // the download count follows (refreshed with the list)
    await page.getByRole("link", { name: "State", exact: true }).click();
    await page.getByRole("link", { name: "Files", exact: true }).click();
    await docsRow.getByText("1 download", { exact: true }).waitFor();
    // only the uploader (or an owner/admin) gets a Delete button
    expect(await docsRow.getByRole("button").count()).toBe(0);
    page.once("dialog", (d) => void d.accept());
    await droppedRow.getByRole("button", { name: "Delete from-the-browser.txt" }).click();
    await droppedRow.waitFor({ state: "detached" });
    expect((await bobFiles.list()).map((f) => f.name)).not.toContain("from-the-browser.txt");

    // Activity: joins, status changes, state writes, memories and message counts, never content.
    await page.getByRole("link", { name: "Activity", exact: true }).click();
    await c.messenger.send("bob", "the secret plan", "now");
    await c.messenger.send("bob", "later please", "low");
    const row = page.locator("tr", { hasText: "carol" });
    await row.waitFor();
    await page.waitForFunction(() => Array.from(document.querySelectorAll("tr")).some((r) => r.textContent === "carol101"));
    for (const text of [
      "bob joined (member bob)",
      "bob is now working",
      "bob set deploy",
      "bob remembered a fact (db, staging)",
      "alice (dashboard) forgot a memory",
      "carol sent a low message to 1 peer",
      "bob shared deploy-notes.md",
      "alice deleted from-the-browser.txt",
    ]) {
      await page.locator(".timeline li", { hasText: text }).first().waitFor();
    }
    expect(await page.content()).not.toContain("the secret plan");
    b.client.close();
    await page.locator(".timeline li", { hasText: "bob left" }).waitFor();
    const b2 = await messagingPeer(bob, { groups: [{ name: "backend", role: "lead" }] });
    await b2.client.request({ type: "set_summary", summary: "reviewing PR #42" }, "ok");
    await b2.client.request({ type: "remember", content: "Deploys happen from main after CI is green", tags: ["ops"] }, "memory_stored");
    await b2.messenger.send("carol", "hello", "next");
    await page.locator(".timeline li", { hasText: "bob sent a next message" }).waitFor();

    expect(await page.evaluate(() => (window as unknown as { mark?: string }).mark)).toBe("same document");
    await screenshots(page, "live");

    // Keyboard: the skip link and the tabs are reachable and show a focus ring.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
    expect(focused.length).toBeGreaterThan(0);

    // The login URL is single use.
    const again = await chrome.context.newPage();
    const res = await again.goto(url);
    expect(res?.status()).toBe(401);
    await again.getByText("This login link cannot be used").waitFor();
    await again.close();

    // Logout: back to the sign-in page, and the dashboard redirects there from now on.
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(`${pb.url}/dashboard/signin`);
    await page.goto(`${pb.url}/dashboard/state`);
    expect(page.url()).toBe(`${pb.url}/dashboard/signin`);
    expect((await page.request.get(`${pb.url}/dashboard/api/peers`)).status()).toBe(401);
    await page.screenshot({ path: join(ARTIFACTS, "signin-desktop-light.png") });
    await page.close();

    // The fragment (the mesh root key) never reached the broker: not in any request the browser made,
    // not in the broker's request log, which did record the login itself.
    expect(requested.some((u) => u.includes("/dashboard/login/"))).toBe(true);
    for (const u of requested) {
      expect(u).not.toContain(mesh.rootKey);
      expect(u).not.toContain(encodeURIComponent(sessionSecret));
    }
    await pb.stop();
    expect(brokerLog()).toContain('"path":"/dashboard/login/[token]"');
    expect(brokerLog()).not.toContain(mesh.rootKey);
    expect(brokerLog()).not.toContain(sessionSecret);
    expect(brokerLog()).not.toContain(encodeURIComponent(sessionSecret));
    expect(brokerLog()).not.toContain(url.split("/dashboard/login/")[1]!.split("#")[0]!);
  }, 180_000);
});
