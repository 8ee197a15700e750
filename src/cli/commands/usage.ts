import { defineCommand } from "citty";
import { findMesh, loadConfig } from "../../client/config.ts";
import { brokerRequest } from "../../client/http.ts";
import { UsageResponse } from "../../messaging/api.ts";
import { print, printJson, table } from "../output.ts";
import { withExamples } from "../usage.ts";

const size = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
};

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
      const res = await brokerRequest(mesh.brokerUrl, "GET", `/meshes/${mesh.meshId}/usage`, UsageResponse, {
        auth: token ? { kind: "admin", token } : { kind: "member", mesh },
      });
      if (args.json) return printJson(res);
      const { perMember, perMesh } = res.limits;
      print(
        `${res.slug}: ${res.stored.messages} undelivered message(s), ${size(res.stored.bytes)} stored (quota ${perMesh.messages} messages / ${size(perMesh.bytes)})`,
      );
      const rows = [["MEMBER", "ID", "SESSIONS", "MESSAGES", "STORED"]];
      for (const m of res.members) rows.push([m.displayName, m.memberId, String(m.online), String(m.stored.messages), size(m.stored.bytes)]);
      print(table(rows));
      print(`Each member may keep ${perMember.messages} messages / ${size(perMember.bytes)} stored until its recipients read them or they expire.`);
    },
  }),
  "claudemesh usage dev-team",
);
