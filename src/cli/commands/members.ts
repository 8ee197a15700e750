import { defineCommand } from "citty";
import { findMesh, loadConfig } from "../../client/config.ts";
import { brokerRequest } from "../../client/http.ts";
import { MembersResponse, RevokeResponse } from "../../meshes/api.ts";
import { AppError } from "../../util/errors.ts";
import { print, printJson, table } from "../output.ts";

export default defineCommand({
  meta: { name: "members", description: "List members: `members <slug>`; revoke: `members revoke <slug> <member-id-or-name>`" },
  args: {
    first: { type: "positional", required: true, description: "Mesh slug, or `revoke`" },
    slug: { type: "positional", required: false, description: "(revoke) mesh slug" },
    member: { type: "positional", required: false, description: "(revoke) member id or display name" },
    json: { type: "boolean", description: "Print JSON" },
  },
  async run({ args }) {
    if (args.first === "revoke") {
      if (!args.slug || !args.member) throw new AppError("invalid_argument", "usage: claudemesh members revoke <slug> <member-id-or-name>");
      const mesh = findMesh(loadConfig(), args.slug);
      const res = await brokerRequest(mesh.brokerUrl, "POST", `/meshes/${mesh.meshId}/members/${encodeURIComponent(args.member)}/revoke`, RevokeResponse, {
        auth: { kind: "member", mesh },
      });
      if (args.json) return printJson(res);
      print(`Revoked ${res.revoked.join(", ")}; ${res.disconnected} live session(s) disconnected.`);
      return;
    }
    const mesh = findMesh(loadConfig(), args.first);
    const res = await brokerRequest(mesh.brokerUrl, "GET", `/meshes/${mesh.meshId}/members`, MembersResponse, { auth: { kind: "member", mesh } });
    if (args.json) return printJson(res.members);
    const rows = [["ID", "NAME", "ROLE", "SESSIONS", "JOINED", "STATE"]];
    for (const m of res.members) {
      rows.push([m.id, m.displayName, m.role, String(m.online), new Date(m.joinedAt).toISOString().slice(0, 10), m.revokedAt ? "revoked" : "active"]);
    }
    print(table(rows));
  },
});
