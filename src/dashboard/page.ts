import type { HTMLBundle } from "bun";
import { newSecret } from "../util/ids.ts";
import page from "./page/index.html";

/**
 * The bundled page (a Bun HTML import, embedded in the compiled binary) and the path it is mounted at:
 * one only this process knows, so the page is reached through the cookie-checking /dashboard routes.
 */
export function dashboardPage(): { mount: string; bundle: HTMLBundle } {
  return { mount: `/dashboard/_page/${newSecret()}`, bundle: page };
}
