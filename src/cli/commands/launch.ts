import { defineCommand } from "citty";
import { splitAtDoubleDash } from "../../launch/argv.ts";
import { launch } from "../../launch/launch.ts";
import { withExamples } from "../usage.ts";

const command = defineCommand({
  meta: { name: "launch", description: "Launch a Claude Code session with a mesh identity (args after -- go to claude)" },
  args: {
    name: { type: "string", description: "Display name for this session" },
    role: { type: "string", description: "Session role (free-form: dev, pm, reviewer…)" },
    groups: { type: "string", description: 'Groups with optional roles, e.g. "frontend:lead,reviewers"' },
    mesh: { type: "string", description: "Mesh slug (asked when you are in several)" },
    join: { type: "string", description: "Join a mesh with this invite URL first" },
    broker: { type: "string", description: "Use this broker URL only: the session never fails over to another node" },
    quiet: { type: "boolean", description: "Skip the banner" },
    yes: { type: "boolean", alias: "y", description: "Skip every question, including the autonomous-mode confirmation" },
  },
  async run({ args, rawArgs }) {
    // citty's parser stops at the first `--` too, so `args` holds launch's own flags only.
    const { passthrough } = splitAtDoubleDash(rawArgs);
    return launch(
      {
        name: args.name,
        role: args.role,
        groups: args.groups,
        mesh: args.mesh,
        join: args.join,
        broker: args.broker,
        quiet: Boolean(args.quiet),
        yes: Boolean(args.yes),
      },
      passthrough,
    );
  },
});

export default withExamples(command, 'claudemesh launch --name Alice --role dev --groups "frontend:lead" -- --model opus');
