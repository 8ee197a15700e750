import { defineCommand } from "citty";
import { findMesh, loadConfig } from "../../client/config.ts";
import { delegateSession, revokeDelegations } from "../../client/delegate.ts";
import { brokerRequest } from "../../client/http.ts";
import { LoginTokenResponse } from "../../dashboard/api.ts";
import { MAX_DELEGATION_MS } from "../../meshes/api.ts";
import { InvalidArgument } from "../../util/errors.ts";
import { parseDuration, print } from "../output.ts";
import { withExamples } from "../usage.ts";

/** Opens `url` in the desktop's browser if there is one; a headless machine just has the printed URL. */
function openBrowser(url: string): void {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const p = Bun.spawn([cmd, url], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    p.unref();
    void p.exited.catch(() => {});
  } catch {
    // no opener installed: the URL below is all the user needs
  }
}

function delegationMs(s: string): number {
  let ms: number | null = null;
  try {
    ms = parseDuration(s);
  } catch {
    // said below, with the limits that apply here
  }
  if (ms === null || ms <= 0 || ms > MAX_DELEGATION_MS) {
    throw new InvalidArgument(`--for must be a duration up to ${MAX_DELEGATION_MS / 3600_000}h (e.g. 30m, 12h, 2d), not "${s}"`);
  }
  return ms;
}

export default withExamples(
  defineCommand({
    meta: { name: "dashboard", description: "Open the mesh's dashboard in a browser (prints a one-time login URL)" },
    args: {
      mesh: { type: "string", description: "Mesh slug (needed when you joined several)" },
      open: { type: "boolean", default: true, description: "Open the browser (--no-open only prints the URL)" },
      for: { type: "string", default: "12h", description: "How long the browser may talk to the mesh as you (e.g. 30m, 12h, 2d; at most 7d)" },
      revoke: { type: "boolean", default: false, description: "End every dashboard session you started on this mesh now" },
    },
    async run({ args }) {
      const mesh = findMesh(loadConfig(), args.mesh);
      if (args.revoke) {
        const res = await revokeDelegations(mesh);
        print(
          `Revoked ${res.revoked} dashboard delegation${res.revoked === 1 ? "" : "s"} of ${mesh.displayName} on ${mesh.slug}; ${res.disconnected} live session${res.disconnected === 1 ? "" : "s"} ended.`,
        );
        return;
      }
      const forMs = delegationMs(args.for);
      // The browser's own session key, allowed by the member key to speak for it until the expiry.
      const d = await delegateSession(mesh, forMs);
      const res = await brokerRequest(mesh.brokerUrl, "POST", "/dashboard/tokens", LoginTokenResponse, { body: {}, auth: { kind: "member", mesh } });
      // The fragment never leaves the browser: the session secret and the mesh root key travel only there.
      const fragment = new URLSearchParams();
      if (mesh.rootKey) fragment.set("root", mesh.rootKey);
      fragment.set("sk", d.session.secretKey);
      fragment.set("pk", mesh.pubkey);
      fragment.set("dexp", String(d.expiresAt));
      fragment.set("dsig", d.signature);
      const url = `${mesh.brokerUrl.replace(/\/+$/, "")}${res.path}#${fragment}`;
      if (args.open) openBrowser(url);
      print(`Dashboard of ${mesh.slug} as ${mesh.displayName}: a one-time login link, valid for 5 minutes;`);
      print(`the page may talk to the mesh as you until ${new Date(d.expiresAt).toISOString()} (end it early with \`claudemesh dashboard --revoke\`):`);
      print(url);
    },
  }),
  "claudemesh dashboard --mesh dev-team --no-open",
  "claudemesh dashboard --for 2h",
  "claudemesh dashboard --revoke",
);
