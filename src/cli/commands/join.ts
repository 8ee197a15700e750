import { loginName } from "../../util/home.ts";
import { defineCommand } from "citty";
import { joinMesh } from "../../client/join.ts";
import { print, printJson } from "../output.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "join", description: "Join a mesh with an invite URL (creates your member key)" },
    args: {
      url: { type: "positional", required: true, description: "Invite URL, including the part after #" },
      name: { type: "string", description: "Your display name in the mesh (default: your user name)" },
      ca: { type: "string", description: "CA certificate (PEM) for a broker with a private TLS certificate; kept for this mesh" },
      json: { type: "boolean", description: "Print JSON" },
    },
    async run({ args }) {
      const { mesh, created } = await joinMesh(args.url, args.name ?? loginName(), { caFile: args.ca });
      if (args.json) return printJson({ slug: mesh.slug, meshId: mesh.meshId, memberId: mesh.memberId, displayName: mesh.displayName, created });
      print(
        created
          ? `Joined mesh ${mesh.slug} as ${mesh.displayName} (${mesh.memberId}).`
          : `Already a member of ${mesh.slug} as ${mesh.displayName} (${mesh.memberId}).`,
      );
      print("Next: `claudemesh launch` starts a Claude Code session in this mesh.");
    },
  }),
  "claudemesh join 'http://127.0.0.1:7900/join/TOKEN#KEY' --name Alice   # quote it: the part after # is the mesh key",
);
