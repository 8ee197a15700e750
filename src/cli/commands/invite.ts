import { defineCommand } from "citty";
import { inviteUrl } from "../../broker/bootstrap.ts";
import { findMesh, loadConfig } from "../../client/config.ts";
import { brokerRequest } from "../../client/http.ts";
import { InviteResponse, InviteRole } from "../../meshes/api.ts";
import { AppError } from "../../util/errors.ts";
import { parseDuration, print, printJson } from "../output.ts";

export default defineCommand({
  meta: { name: "invite", description: "Mint an invite URL for a mesh you administer" },
  args: {
    slug: { type: "positional", required: true, description: "Mesh slug" },
    uses: { type: "string", description: "Maximum number of joins (default unlimited)" },
    expires: { type: "string", description: "Lifetime: 30m, 12h, 7d, 2w or never", default: "7d" },
    role: { type: "string", description: "member or admin", default: "member" },
    json: { type: "boolean", description: "Print JSON" },
  },
  async run({ args }) {
    const mesh = findMesh(loadConfig(), args.slug);
    const role = InviteRole.safeParse(args.role);
    if (!role.success) throw new AppError("invalid_argument", "--role must be member or admin");
    const maxUses = args.uses === undefined ? null : Number(args.uses);
    if (maxUses !== null && (!Number.isInteger(maxUses) || maxUses < 1)) throw new AppError("invalid_argument", "--uses must be a positive whole number");
    const ms = parseDuration(args.expires);
    const res = await brokerRequest(mesh.brokerUrl, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, {
      auth: { kind: "member", mesh },
      body: { role: role.data, maxUses, expiresInSeconds: ms === null ? null : Math.max(1, Math.round(ms / 1000)) },
    });
    if (!mesh.rootKey) throw new AppError("not_found", "this mesh's root key is not in your config; messages could not be decrypted by invitees");
    const url = inviteUrl(mesh.brokerUrl, res.token, mesh.rootKey);
    if (args.json) return printJson({ ...res, token: undefined, inviteUrl: url });
    const expiry = res.expiresAt ? `expires ${new Date(res.expiresAt).toISOString()}` : "never expires";
    print(`Invite for ${mesh.slug}: role ${res.role}, ${res.maxUses ?? "unlimited"} use(s), ${expiry}`);
    print(url);
  },
});
