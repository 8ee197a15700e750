import { defineCommand } from "citty";
import { type Change, install } from "../../install/install.ts";
import { tildify } from "../../util/home.ts";
import { selfCommand } from "../../util/self.ts";
import { print, printJson } from "../output.ts";
import { withExamples } from "../usage.ts";

const describe = (c: Change) =>
  `${c.action === "unchanged" ? "=" : "+"} ${c.what}: ${c.action === "unchanged" ? "already in" : c.action === "added" ? "added to" : "updated in"} ${tildify(c.path)}${c.backup ? ` (backup: ${tildify(c.backup)})` : ""}`;

/**
 * Run from a checkout, `install` would register absolute paths into it. A compiled `claudemesh` on PATH
 * (its `--version` names a commit; from source it says "source") is registered instead when there is one.
 */
function commandToRegister(): { self: string[]; fromCheckout: boolean } {
  const self = selfCommand();
  if (self.length === 1) return { self, fromCheckout: false };
  const onPath = Bun.which("claudemesh");
  if (onPath) {
    const v = Bun.spawnSync([onPath, "--version"], { stdout: "pipe", stderr: "ignore", timeout: 5000 });
    if (v.exitCode === 0 && /\(commit (?!source\))\S+\)/.test(v.stdout.toString())) return { self: [onPath], fromCheckout: false };
  }
  return { self, fromCheckout: true };
}

export default withExamples(
  defineCommand({
    meta: { name: "install", description: "Register the claudemesh MCP server and status hooks in Claude Code (user scope), copy CLAUDEMESH.md" },
    args: { json: { type: "boolean", description: "Print JSON" } },
    run({ args }) {
      const { self, fromCheckout } = commandToRegister();
      const changes = install(self);
      if (args.json) return printJson(changes);
      for (const c of changes) print(describe(c));
      print("");
      if (fromCheckout) {
        print(`Registered this checkout: Claude Code will run \`${self.join(" ")}\`, so moving or deleting it breaks the registration.`);
        print("With a compiled claudemesh on PATH (a release binary, or `npm run build`), `claudemesh install` registers that instead.");
      } else print(`Registered ${self[0]}.`);
      print("Plain `claude` sessions now join your mesh; `claudemesh launch` gives a session its own name, role and groups.");
      print("Undo with `claudemesh uninstall`.");
    },
  }),
  "claudemesh install",
);
