import { defineCommand } from "citty";
import { findMesh, loadConfig } from "../../client/config.ts";
import { brokerRequest } from "../../client/http.ts";
import { LoginTokenResponse } from "../../dashboard/api.ts";
import { print } from "../output.ts";
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

export default withExamples(
  defineCommand({
    meta: { name: "dashboard", description: "Open the mesh's dashboard in a browser (prints a one-time login URL)" },
    args: {
      mesh: { type: "string", description: "Mesh slug (needed when you joined several)" },
      open: { type: "boolean", default: true, description: "Open the browser (--no-open only prints the URL)" },
    },
    async run({ args }) {
      const mesh = findMesh(loadConfig(), args.mesh);
      const res = await brokerRequest(mesh.brokerUrl, "POST", "/dashboard/tokens", LoginTokenResponse, { body: {}, auth: { kind: "member", mesh } });
      // The fragment never leaves the browser: keys the page may need travel there, not to the broker.
      const fragment = mesh.rootKey ? `#root=${mesh.rootKey}` : "";
      const url = mesh.brokerUrl.replace(/\/+$/, "") + res.path + fragment;
      if (args.open) openBrowser(url);
      print(`Dashboard of ${mesh.slug} as ${mesh.displayName}: a one-time login link, valid for 5 minutes:`);
      print(url);
    },
  }),
  "claudemesh dashboard --mesh dev-team --no-open",
);
