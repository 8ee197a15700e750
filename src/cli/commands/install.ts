import { defineCommand } from "citty";
import { type Change, install } from "../../install/install.ts";
import { tildify } from "../../util/home.ts";
import { print, printJson } from "../output.ts";
import { withExamples } from "../usage.ts";

const describe = (c: Change) =>
  `${c.action === "unchanged" ? "=" : "+"} ${c.what}: ${c.action === "unchanged" ? "already in" : c.action === "added" ? "added to" : "updated in"} ${tildify(c.path)}${c.backup ? ` (backup: ${tildify(c.backup)})` : ""}`;

export default withExamples(
  defineCommand({
    meta: { name: "install", description: "Register the claudemesh MCP server and status hooks in Claude Code (user scope), copy CLAUDEMESH.md" },
    args: { json: { type: "boolean", description: "Print JSON" } },
    run({ args }) {
      const changes = install();
      if (args.json) return printJson(changes);
      for (const c of changes) print(describe(c));
      print("");
      print("Plain `claude` sessions now join your mesh; `claudemesh launch` gives a session its own name, role and groups.");
      print("Undo with `claudemesh uninstall`.");
    },
  }),
  "claudemesh install",
);
