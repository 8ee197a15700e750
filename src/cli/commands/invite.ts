import { defineCommand } from "citty";
import { brokerRequest } from "../../client/http.ts";
import { InviteResponse, InviteRole, InvitesResponse, RevokeInviteResponse } from "../../meshes/api.ts";
import { inviteUrl } from "../../protocol/invite-url.ts";
import { ConfigError, InvalidArgument } from "../../util/errors.ts";
import { meshTarget, operatorArgs } from "../mesh-target.ts";
import { parseDuration, print, printJson, table } from "../output.ts";
import { withExamples } from "../usage.ts";

const create = withExamples(
  defineCommand({
    meta: { name: "create", description: "Mint an invite URL (the default: `invite <slug>`)" },
    args: {
      slug: { type: "positional", required: true, description: "Mesh slug" },
      uses: { type: "string", description: "Maximum number of joins (default unlimited)" },
      expires: { type: "string", description: "Lifetime: 30m, 12h, 7d, 2w or never", default: "7d" },
      role: { type: "string", description: "member or admin", default: "member" },
      json: { type: "boolean", description: "Print JSON" },
      ...operatorArgs,
    },
    async run({ args }) {
      const role = InviteRole.safeParse(args.role);
      if (!role.success) throw new InvalidArgument("--role must be member or admin");
      const maxUses = args.uses === undefined ? null : Number(args.uses);
      if (maxUses !== null && (!Number.isInteger(maxUses) || maxUses < 1)) throw new InvalidArgument("--uses must be a positive whole number");
      const ms = parseDuration(args.expires);
      const mesh = await meshTarget(args.slug, args);
      // Checked before minting: an invite without the root key could never be used, so none is made.
      const { rootKey } = mesh;
      if (!rootKey)
        throw new ConfigError(
          `the key of mesh ${mesh.slug} is neither in your config nor at its broker (only the quick-start mesh's is), so no usable invite can be built; ask its owner to invite instead`,
        );
      const res = await brokerRequest(mesh.brokerUrl, "POST", `/meshes/${mesh.meshId}/invites`, InviteResponse, {
        auth: mesh.auth,
        body: { role: role.data, maxUses, expiresInSeconds: ms === null ? null : Math.max(1, Math.round(ms / 1000)) },
      });
      const url = inviteUrl(mesh.brokerUrl, res.token, rootKey);
      if (args.json) return printJson({ ...res, token: undefined, inviteUrl: url });
      const expiry = res.expiresAt ? `expires ${new Date(res.expiresAt).toISOString()}` : "never expires";
      print(`Invite ${res.inviteId} for ${mesh.slug}: role ${res.role}, ${res.maxUses ?? "unlimited"} use(s), ${expiry}`);
      print(url);
    },
  }),
  "claudemesh invite dev-team --uses 3 --expires 12h",
);

const list = withExamples(
  defineCommand({
    meta: { name: "list", description: "List a mesh's invites with their uses, expiry and state" },
    args: {
      slug: { type: "positional", required: true, description: "Mesh slug" },
      json: { type: "boolean", description: "Print JSON" },
      ...operatorArgs,
    },
    async run({ args }) {
      const mesh = await meshTarget(args.slug, args);
      const res = await brokerRequest(mesh.brokerUrl, "GET", `/meshes/${mesh.meshId}/invites`, InvitesResponse, { auth: mesh.auth });
      if (args.json) return printJson(res.invites);
      if (res.invites.length === 0) return print(`No invites in ${mesh.slug}.`);
      const now = Date.now();
      const rows = [["ID", "ROLE", "USES", "EXPIRES", "BY", "STATE"]];
      for (const i of res.invites) {
        const state = i.usable ? "usable" : i.revokedAt ? "revoked" : i.expiresAt !== null && i.expiresAt <= now ? "expired" : "used up";
        rows.push([
          i.id,
          i.role,
          `${i.uses}/${i.maxUses ?? "unlimited"}`,
          i.expiresAt ? new Date(i.expiresAt).toISOString() : "never",
          i.createdByName ?? "operator",
          state,
        ]);
      }
      print(table(rows));
    },
  }),
  "claudemesh invite list dev-team",
);

const revoke = withExamples(
  defineCommand({
    meta: { name: "revoke", description: "Revoke an invite so nobody can join with it any more" },
    args: {
      slug: { type: "positional", required: true, description: "Mesh slug" },
      invite: { type: "positional", required: true, description: "Invite id (from `invite list`)" },
      json: { type: "boolean", description: "Print JSON" },
      ...operatorArgs,
    },
    async run({ args }) {
      const mesh = await meshTarget(args.slug, args);
      await brokerRequest(mesh.brokerUrl, "POST", `/meshes/${mesh.meshId}/invites/${encodeURIComponent(args.invite)}/revoke`, RevokeInviteResponse, {
        auth: mesh.auth,
      });
      if (args.json) return printJson({ revoked: args.invite });
      print(`Revoked invite ${args.invite} of ${mesh.slug}.`);
    },
  }),
  "claudemesh invite revoke dev-team inv_0123",
);

export default withExamples(
  defineCommand({
    meta: { name: "invite", description: "Mint (`invite <slug>`), list or revoke a mesh's invites (owners and admins)" },
    subCommands: { create, list, revoke },
    default: "create",
  }),
  "claudemesh invite dev-team --uses 1 --expires 1h",
  "claudemesh invite list dev-team",
  "claudemesh invite revoke dev-team <invite-id>",
);
