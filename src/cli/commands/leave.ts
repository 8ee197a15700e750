import { defineCommand } from "citty";
import { findMesh, loadConfig, saveConfig } from "../../client/config.ts";
import { brokerRequest } from "../../client/http.ts";
import { RevokeResponse } from "../../meshes/api.ts";
import { print } from "../output.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "leave", description: "Leave a mesh: revokes your membership and deletes your key" },
    args: { slug: { type: "positional", required: true, description: "Mesh slug" } },
    async run({ args }) {
      const config = loadConfig();
      const mesh = findMesh(config, args.slug);
      let note = "";
      try {
        await brokerRequest(mesh.brokerUrl, "POST", `/meshes/${mesh.meshId}/members/${mesh.memberId}/revoke`, RevokeResponse, {
          auth: { kind: "member", mesh },
        });
      } catch (err) {
        // Leaving must work offline too: the key is deleted either way, so it can never be used again.
        note = ` (the broker could not be told: ${err instanceof Error ? err.message : String(err)})`;
      }
      saveConfig({ ...config, meshes: config.meshes.filter((m) => m !== mesh) });
      print(`Left ${mesh.slug}${note}.`);
    },
  }),
  "claudemesh leave dev-team",
);
