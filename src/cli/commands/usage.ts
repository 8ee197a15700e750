import { defineCommand } from "citty";
import { findMesh, loadConfig } from "../../client/config.ts";
import { brokerRequest } from "../../client/http.ts";
import { FilesUsageResponse } from "../../files/api.ts";
import { UsageResponse } from "../../messaging/api.ts";
import { humanSize } from "../../util/size.ts";
import { print, printJson, table } from "../output.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "usage", description: "What a mesh keeps stored on its broker, against the broker's quotas (owners and admins)" },
    args: {
      slug: { type: "positional", required: true, description: "Mesh slug" },
      "admin-token": { type: "string", description: "The broker's admin token, instead of signing as your member" },
      json: { type: "boolean", description: "Print JSON" },
    },
    async run({ args }) {
      const mesh = findMesh(loadConfig(), args.slug);
      const token = args["admin-token"];
      const auth = token ? ({ kind: "admin", token } as const) : ({ kind: "member", mesh } as const);
      const [res, files] = await Promise.all([
        brokerRequest(mesh.brokerUrl, "GET", `/meshes/${mesh.meshId}/usage`, UsageResponse, { auth }),
        brokerRequest(mesh.brokerUrl, "GET", `/meshes/${mesh.meshId}/files/usage`, FilesUsageResponse, { auth }),
      ]);
      if (args.json) return printJson({ ...res, files });
      const { perMember, perMesh } = res.limits;
      print(
        `${res.slug}: ${res.stored.messages} undelivered message(s), ${humanSize(res.stored.bytes)} stored (quota ${perMesh.messages} messages / ${humanSize(perMesh.bytes)})`,
      );
      print(`files: ${files.stored.files} file(s), ${humanSize(files.stored.bytes)} stored (quota ${humanSize(files.limits.meshBytes)} per mesh)`);
      const rows = [["MEMBER", "ID", "SESSIONS", "MESSAGES", "STORED", "FILES", "FILE BYTES"]];
      for (const m of res.members) {
        const f = files.members.find((x) => x.memberId === m.memberId);
        rows.push([
          m.displayName,
          m.memberId,
          String(m.online),
          String(m.stored.messages),
          humanSize(m.stored.bytes),
          String(f?.files ?? 0),
          humanSize(f?.bytes ?? 0),
        ]);
      }
      print(table(rows));
      print(`Each member may keep ${perMember.messages} messages / ${humanSize(perMember.bytes)} stored until its recipients read them or they expire.`);
      print(`Files stay until deleted (attachments: until they expire); one file may be up to ${humanSize(files.limits.fileBytes)}.`);
    },
  }),
  "claudemesh usage dev-team",
);
