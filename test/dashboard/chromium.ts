import { describe, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { ROOT } from "../helpers/binary.ts";
import { tempDir } from "../helpers/backends.ts";

export const CHROMIUM = process.env.CLAUDEMESH_CHROMIUM ?? "/usr/bin/chromium";
/** Screenshots land here (CI keeps the directory as an artifact). */
export const ARTIFACTS = process.env.CLAUDEMESH_ARTIFACTS ?? join(ROOT, "artifacts", "dashboard");

const inCI = () => process.env.CI === "true" || process.env.CI === "1";

/**
 * A describe block that drives Debian's chromium. Missing it: locally a skip with the reason printed; in
 * CI a failing test, so a CI image without a browser can never pass by skipping.
 */
export function describeBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) return void describe(name, body);
  const why = `no chromium at ${CHROMIUM} (apt-get install chromium)`;
  if (inCI()) {
    describe(name, () => {
      test("chromium is installed", () => {
        throw new Error(`CI=true but ${why}: the dashboard browser tests cannot run`);
      });
    });
    return;
  }
  console.log(`[claudemesh browser] SKIPPED "${name}": ${why}`);
  describe.skip(name, body);
}

/** Headless chromium with a fresh profile (playwright passes it as --user-data-dir); `close` also removes it. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = tempDir("cm-chromium-");
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 800 },
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    async close() {
      await context.close();
      profile.cleanup();
    },
  };
}
