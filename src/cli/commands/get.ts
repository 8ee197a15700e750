import { defineCommand } from "citty";
import { humanSize } from "../../util/size.ts";
import { print, printJson } from "../output.ts";
import { cliFiles } from "../files-mesh.ts";
import { progressBar } from "../progress.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "get", description: "Download a file: `get <id> [dest]` (a directory, or the file's path; default: here)" },
    args: {
      id: { type: "positional", required: true, description: "File id (f_…)" },
      dest: { type: "positional", required: false, description: "Directory (or path ending in /) or file path; default ./" },
      overwrite: { type: "boolean", description: "Replace an existing file" },
      mesh: { type: "string", description: "Mesh slug (default: the only one joined, or CLAUDEMESH_MESH)" },
      json: { type: "boolean", description: "Print JSON" },
    },
    async run({ args }) {
      const bar = args.json ? null : progressBar("downloading");
      let moved = 0;
      const { file, path } = await cliFiles(args.mesh).download(args.id, args.dest ?? "./", {
        overwrite: args.overwrite === true,
        ...(bar ? { progress: (done: number, total: number) => bar.update((moved = done), total) } : {}),
      });
      bar?.finish(moved, file.size);
      if (args.json) return printJson({ ...file, path });
      print(`Saved ${file.name} (${humanSize(file.size)}) to ${path}.`);
    },
  }),
  "claudemesh get f_k3j9x2 ~/Downloads/",
);
