import { findMesh, loadConfig } from "../client/config.ts";
import { brokerRequest } from "../client/http.ts";
import { FileToken } from "../files/api.ts";
import { FilesClient } from "../files/client.ts";
import { readEnv } from "../util/env.ts";

/** The file routes of one joined mesh, for a terminal without a session: a member-signed upload token. */
export function cliFiles(meshSlug: string | undefined): FilesClient {
  const mesh = findMesh(loadConfig(), meshSlug || readEnv().CLAUDEMESH_MESH || undefined);
  let token: { token: string; expiresAt: number } | null = null;
  return new FilesClient(
    mesh.brokerUrl,
    async () => {
      if (!token || token.expiresAt < Date.now() + 30_000)
        token = await brokerRequest(mesh.brokerUrl, "POST", "/files/token", FileToken, { auth: { kind: "member", mesh } });
      return token.token;
    },
    mesh.caFile,
  );
}
