import { defineCommand } from "citty";
import { brokerRequest } from "../../client/http.ts";
import { MembersResponse, RevokeResponse } from "../../meshes/api.ts";
import { meshTarget, operatorArgs } from "../mesh-target.ts";
import { print, printJson, table } from "../output.ts";
import { withExamples } from "../usage.ts";

const list = withExamples(
  defineCommand({
    meta: { name: "list", description: "List a mesh's members, their roles and live sessions (the default: `members <slug>`)" },
    args: {
      slug: { type: "positional", required: true, description: "Mesh slug" },
      json: { type: "boolean", description: "Print JSON" },
      ...operatorArgs,
    },
    async run({ args }) {
      const mesh = await meshTarget(args.slug, args);
      const res = await brokerRequest(mesh.brokerUrl, "GET", `/meshes/${mesh.meshId}/members`, MembersResponse, { auth: mesh.auth });
      if (args.json) return printJson(res.members);
      const rows = [["ID", "NAME", "ROLE", "SESSIONS", "JOINED", "STATE"]];
      for (const m of res.members) {
        rows.push([m.id, m.displayName, m.role, String(m.online), new Date(m.joinedAt).toISOString().slice(0, 10), m.revokedAt ? "revoked" : "active"]);
      }
      print(table(rows));
    },
  }),
  "claudemesh members dev-team",
);

const revoke = withExamples(
  defineCommand({
    meta: { name: "revoke", description: "Revoke a member: its key stops working and its live sessions are disconnected" },
    args: {
      slug: { type: "positional", required: true, description: "Mesh slug" },
      member: { type: "positional", required: true, description: "Member id or display name" },
      json: { type: "boolean", description: "Print JSON" },
      ...operatorArgs,
    },
    async run({ args }) {
      const mesh = await meshTarget(args.slug, args);
      const res = await brokerRequest(mesh.brokerUrl, "POST", `/meshes/${mesh.meshId}/members/${encodeURIComponent(args.member)}/revoke`, RevokeResponse, {
        auth: mesh.auth,
      });
      if (args.json) return printJson(res);
      print(`Revoked ${res.revoked.join(", ")}; ${res.disconnected} live session(s) disconnected.`);
      if (res.invitesRevoked.length) print(`Also revoked the invite(s) they joined with, so they cannot rejoin: ${res.invitesRevoked.join(", ")}`);
    },
  }),
  "claudemesh members revoke dev-team Alice",
);

export default withExamples(
  defineCommand({
    meta: { name: "members", description: "List (`members <slug>`) or revoke (`members revoke <slug> <member>`) a mesh's members" },
    subCommands: { list, revoke },
    default: "list",
  }),
  "claudemesh members dev-team",
  "claudemesh members revoke dev-team Alice",
);
