import { defineCommand } from "citty";
import { formatResult, runChecks } from "../../doctor/doctor.ts";
import { print, printJson } from "../output.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "doctor", description: "Diagnose this machine: Claude Code, registration, permissions, brokers, a live round trip" },
    args: { json: { type: "boolean", description: "Print JSON" } },
    async run({ args }) {
      // Lines appear as each check finishes: the broker checks can take seconds.
      const results = await runChecks(args.json ? undefined : (r) => print(formatResult(r)));
      const failed = results.filter((r) => !r.ok).length;
      if (args.json) printJson({ ok: failed === 0, checks: results });
      else print(failed === 0 ? "\nAll checks passed." : `\n${failed} check(s) failed.`);
      return failed === 0 ? 0 : 1;
    },
  }),
  "claudemesh doctor --json",
);
