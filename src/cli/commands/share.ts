import { defineCommand } from "citty";
import { humanSize } from "../../util/size.ts";
import { print, printJson } from "../output.ts";
import { cliFiles } from "../files-mesh.ts";
import { progressBar } from "../progress.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "share", description: "Share a file with the whole mesh (persistent; files are stored on the broker, not end-to-end encrypted)" },
    args: {
      path: { type: "positional", required: true, description: "The file to share" },
      tags: { type: "string", description: "Comma-separated tags, e.g. api,auth" },
      name: { type: "string", description: "Display name (default: the file name)" },
      mesh: { type: "string", description: "Mesh slug (default: the only one joined, or CLAUDEMESH_MESH)" },
      json: { type: "boolean", description: "Print JSON" },
    },
    async run({ args }) {
      const bar = args.json ? null : progressBar("uploading");
      let moved = 0;
      const tags = args.tags
        ?.split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      const f = await cliFiles(args.mesh).upload(args.path, {
        ...(tags?.length ? { tags } : {}),
        ...(args.name ? { name: args.name } : {}),
        ...(bar ? { progress: (done: number, total: number) => bar.update((moved = done), total) } : {}),
      });
      bar?.finish(moved, f.size);
      if (args.json) return printJson(f);
      print(`Shared ${f.name} (${humanSize(f.size)}) as ${f.id}${f.tags.length ? `, tags ${f.tags.join(", ")}` : ""}.`);
      print(`Get it with: claudemesh get ${f.id}`);
    },
  }),
  'claudemesh share ./api-contract.yaml --tags api,auth --name "Auth v2 Contract"',
);
