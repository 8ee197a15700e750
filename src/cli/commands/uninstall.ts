import { defineCommand } from "citty";
import { type Change, uninstall } from "../../install/install.ts";
import { tildify } from "../../util/home.ts";
import { print, printJson } from "../output.ts";
import { withExamples } from "../usage.ts";

const describe = (c: Change) =>
  c.action === "removed"
    ? `- ${c.what}: removed from ${tildify(c.path)}${c.backup ? ` (backup: ${tildify(c.backup)})` : ""}`
    : `= ${c.what}: not in ${tildify(c.path)}`;

export default withExamples(
  defineCommand({
    meta: { name: "uninstall", description: "Remove exactly what `claudemesh install` added to Claude Code" },
    args: { json: { type: "boolean", description: "Print JSON" } },
    run({ args }) {
      const changes = uninstall();
      if (args.json) return printJson(changes);
      for (const c of changes) print(describe(c));
    },
  }),
  "claudemesh uninstall",
);
