import { loginName } from "../../util/home.ts";
import { defineCommand } from "citty";
import { inviteUrl } from "../../protocol/invite-url.ts";
import { readEnv } from "../../util/env.ts";
import { brokerPin, loadConfig, saveConfig, upsertMesh } from "../../client/config.ts";
import { brokerRequest } from "../../client/http.ts";
import { b64url } from "../../crypto/encoding.ts";
import { generateRootKey, generateSigningKeyPair } from "../../crypto/keys.ts";
import { CreateMeshResponse } from "../../meshes/api.ts";
import { InvalidArgument } from "../../util/errors.ts";
import { print, printJson } from "../output.ts";
import { withExamples } from "../usage.ts";

const create = withExamples(
  defineCommand({
    meta: { name: "create", description: "Create a mesh on a broker (needs the broker's admin token)" },
    args: {
      slug: { type: "positional", required: true, description: "Short name, e.g. dev-team" },
      broker: { type: "string", required: true, description: "Broker URL, e.g. http://127.0.0.1:7900" },
      "admin-token": { type: "string", description: "The broker's admin token (or CLAUDEMESH_ADMIN_TOKEN)" },
      name: { type: "string", description: "Your display name in the mesh" },
      uses: { type: "string", description: "Joins the printed invite allows (default 1)" },
      json: { type: "boolean", description: "Print JSON" },
    },
    async run({ args }) {
      const adminToken = args["admin-token"] ?? readEnv().CLAUDEMESH_ADMIN_TOKEN ?? "";
      // The owner key and the root key are born here; the broker only ever sees the public key.
      const owner = generateSigningKeyPair();
      const rootKey = b64url.encode(generateRootKey());
      const displayName = args.name ?? loginName();
      const brokerUrl = brokerPin(args.broker);
      const inviteMaxUses = args.uses === undefined ? 1 : Number(args.uses);
      if (!Number.isInteger(inviteMaxUses) || inviteMaxUses < 1) throw new InvalidArgument("--uses must be a positive whole number");
      const res = await brokerRequest(brokerUrl, "POST", "/admin/meshes", CreateMeshResponse, {
        auth: { kind: "admin", token: adminToken },
        body: { slug: args.slug, ownerPubkey: owner.publicKey, ownerName: displayName, inviteMaxUses },
      });
      saveConfig(
        upsertMesh(loadConfig(), {
          slug: res.slug,
          meshId: res.meshId,
          brokerUrl,
          memberId: res.memberId,
          displayName,
          role: "owner",
          pubkey: owner.publicKey,
          secretKey: owner.secretKey,
          rootKey,
          joinedAt: Date.now(),
        }),
      );
      const url = inviteUrl(brokerUrl, res.invite.token, rootKey);
      if (args.json) return printJson({ meshId: res.meshId, slug: res.slug, memberId: res.memberId, inviteUrl: url, expiresAt: res.invite.expiresAt });
      print(`Created mesh ${res.slug} (${res.meshId}); you are its owner, ${displayName}.`);
      print(`Invite others with (${res.invite.maxUses === 1 ? "one join" : `${res.invite.maxUses} joins`}, valid 7 days):`);
      print(url);
    },
  }),
  'claudemesh mesh create dev-team --broker http://127.0.0.1:7900 --admin-token "$(cat ~/.claudemesh/broker/admin-token)"',
);

export default withExamples(
  defineCommand({
    meta: { name: "mesh", description: "Mesh administration: `mesh create <slug>`" },
    subCommands: { create },
  }),
  "claudemesh mesh create dev-team --broker http://127.0.0.1:7900",
);
