import { defineCommand } from "citty";
import { humanSize } from "../../util/size.ts";
import { print, printJson, table } from "../output.ts";
import { cliFiles } from "../files-mesh.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "files", description: "List the mesh's files you can read; the query matches names and tags" },
    args: {
      query: { type: "positional", required: false, description: "Matches names and tags" },
      from: { type: "string", description: "Only files uploaded by this name" },
      mesh: { type: "string", description: "Mesh slug (default: the only one joined, or CLAUDEMESH_MESH)" },
      json: { type: "boolean", description: "Print JSON" },
    },
    async run({ args }) {
      const files = await cliFiles(args.mesh).list({ ...(args.query ? { query: args.query } : {}), ...(args.from ? { from: args.from } : {}) });
      if (args.json) return printJson(files);
      if (files.length === 0) return print("No files.");
      const rows = [["ID", "NAME", "SIZE", "TAGS", "FROM", "UPLOADED", "KIND"]];
      for (const f of files) {
        rows.push([
          f.id,
          f.name,
          humanSize(f.size),
          f.tags.join(","),
          f.uploadedBy,
          new Date(f.uploadedAt).toISOString().slice(0, 16).replace("T", " "),
          f.persistent ? "shared" : "attachment",
        ]);
      }
      print(table(rows));
    },
  }),
  "claudemesh files auth --from Alice",
);
