import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MeshConfig } from "../../src/client/config.ts";
import { backends, tempDir } from "../helpers/backends.ts";
import { addMember, createMesh, type TestBroker, type TestMesh } from "../helpers/broker.ts";
import { suiteFixture } from "../helpers/fixture.ts";
import { sessionFiles, startFilesBroker } from "../helpers/files.ts";
import { messagingPeer } from "../helpers/messaging.ts";
import { dashFetch, dashJson, login, sse } from "./helpers.ts";

for (const backend of backends()) {
  describe(`dashboard files (${backend})`, () => {
    let b: TestBroker;
    let mesh: TestMesh;
    let alice: MeshConfig;
    let bob: MeshConfig;
    let mallory: MeshConfig;
    const dir = tempDir("cm-dash-files-");

    suiteFixture(async (stack) => {
      stack.use(dir);
      b = stack.use(await startFilesBroker(backend, null));
      mesh = await createMesh(b, "dfiles");
      const other = await createMesh(b, "dfiles-other");
      alice = await addMember(b, mesh, "alice");
      bob = await addMember(b, mesh, "bob");
      mallory = await addMember(b, other, "mallory");
    });

    test("lists shared files and attachments with download counts; shares, downloads and deletes; live; scoped to the mesh", async () => {
      const cookie = await login(alice);
      const events = await sse(b.url, cookie);
      const bobPeer = await messagingPeer(bob);
      const alicePeer = await messagingPeer(alice);
      const bobFiles = sessionFiles(b, bobPeer.client);

      const notes = join(dir.path, "notes.md");
      writeFileSync(notes, "# deploy notes\nport 5433\n");
      const shared = await bobFiles.upload(notes, { tags: ["docs", "ops"] });
      expect((await events.next((e) => e.type === "file_shared")).file).toMatchObject({
        id: shared.id,
        name: "notes.md",
        uploadedBy: "bob",
        tags: ["docs", "ops"],
      });
      const secretPath = join(dir.path, "for-alice.txt");
      writeFileSync(secretPath, "only for alice");
      const attachment = await bobFiles.upload(secretPath, { to: "alice" });
      // an attachment is its recipients' business: nothing about it reaches the timeline
      await bobPeer.client.request({ type: "set_state", key: "after-attachment", value: 1 }, "state_result");
      await events.next((e) => e.type === "state_changed");
      expect(JSON.stringify(events.events)).not.toContain("for-alice");

      let list = (await dashJson(b.url, cookie, "/dashboard/api/files")).files;
      expect(list.map((f: any) => [f.name, f.persistent, f.downloads]).sort()).toEqual([
        ["for-alice.txt", false, 0],
        ["notes.md", true, 0],
      ]);

      // Download through the dashboard: the cookie is checked, then on to the short-lived file URL; bytes identical.
      const hop = await dashFetch(b.url, cookie, `/dashboard/api/files/${shared.id}/download`);
      expect(hop.status).toBe(303);
      const bytes = await (await fetch(new URL(hop.headers.get("location") ?? "", b.url))).text();
      expect(bytes).toBe("# deploy notes\nport 5433\n");
      list = (await dashJson(b.url, cookie, "/dashboard/api/files")).files;
      expect(list.find((f: any) => f.id === shared.id)?.downloads).toBe(1);

      // Share from the dashboard: the raw bytes, a cross-origin write refused; a peer lists and gets it.
      const body = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
      const cross = await dashFetch(b.url, cookie, "/dashboard/api/files?name=x.bin", { method: "POST", body, headers: { origin: "https://evil.example" } });
      expect(cross.status).toBe(403);
      const up = await dashFetch(b.url, cookie, "/dashboard/api/files?name=diagram.bin&tags=design", { method: "POST", body });
      expect(up.status).toBe(201);
      const info = await up.json();
      expect(info).toMatchObject({ name: "diagram.bin", size: 70_000, tags: ["design"], persistent: true, uploadedBy: "alice" });
      expect((await events.next((e) => e.type === "file_shared" && e.file.id === info.id)).file.uploadedBy).toBe("alice");
      expect((await bobFiles.list()).map((f) => f.name)).toContain("diagram.bin");
      const got = await bobFiles.download(info.id, dir.path);
      expect(new Uint8Array(await Bun.file(got.path).arrayBuffer())).toEqual(body);
      const bad = await dashFetch(b.url, cookie, "/dashboard/api/files?tags=x", { method: "POST", body: "x" });
      expect(bad.status).toBe(400);

      // Mesh B's cookie sees no file of mesh A, and can neither download nor delete one.
      const otherCookie = await login(mallory);
      expect((await dashJson(b.url, otherCookie, "/dashboard/api/files")).files).toEqual([]);
      expect((await dashFetch(b.url, otherCookie, `/dashboard/api/files/${shared.id}/download`)).status).toBe(404);
      expect((await dashFetch(b.url, otherCookie, `/dashboard/api/files/${shared.id}`, { method: "DELETE" })).status).toBe(404);

      // Delete: only the uploader (or an owner/admin); bob's file is not alice's to delete.
      expect((await dashFetch(b.url, cookie, `/dashboard/api/files/${shared.id}`, { method: "DELETE" })).status).toBe(403);
      const del = await dashFetch(b.url, cookie, `/dashboard/api/files/${info.id}`, { method: "DELETE" });
      expect(del.status).toBe(200);
      expect(await events.next((e) => e.type === "file_deleted")).toMatchObject({ fileId: info.id, name: "diagram.bin", by: "alice" });
      expect((await bobFiles.list()).map((f) => f.name)).not.toContain("diagram.bin");
      expect((await dashFetch(b.url, cookie, `/dashboard/api/files/${info.id}/download`)).status).toBe(410);
      expect(attachment.persistent).toBe(false);

      events.close();
      bobPeer.client.close();
      alicePeer.client.close();
    });
  });
}
