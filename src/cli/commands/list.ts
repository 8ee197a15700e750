import { defineCommand } from "citty";
import { loadConfig } from "../../client/config.ts";
import { print, printJson, table } from "../output.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "list", description: "Show the meshes you have joined" },
    args: { json: { type: "boolean", description: "Print JSON" } },
    run({ args }) {
      const { meshes } = loadConfig();
      if (args.json) return printJson(meshes.map(({ secretKey: _s, rootKey: _r, ...m }) => m));
      if (meshes.length === 0) return print("No meshes yet. Join one with `claudemesh join <invite-url>`.");
      const rows = [["MESH", "NAME", "ROLE", "BROKER", "MEMBER"]];
      for (const m of meshes) rows.push([m.slug, m.displayName, m.role, m.brokerUrl, m.memberId]);
      print(table(rows));
    },
  }),
  "claudemesh list --json",
);
