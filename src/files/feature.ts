import type { FeatureFactory, Viewer } from "../broker/host.ts";
import type { BlobStore } from "../blob/store.ts";
import type { Clock } from "../util/clock.ts";
import type { FilesLimits } from "./config.ts";
import { fileRoutes } from "./http.ts";
import { filesMigration } from "./schema.ts";
import { type Caller, FilesService } from "./service.ts";
import { loadFilesKey, Signer } from "./signing.ts";

export interface FilesDeps {
  /** the broker's data dir: the signing key lives there (and the blobs, on local disk) */
  dataDir: string;
  blob: BlobStore;
  limits: FilesLimits;
  /** The files' own clock (attachment expiry, URL lifetimes); tests move it a day without expiring sessions. */
  clock?: Clock;
}

/** Shared files and message attachments: HTTP routes (no frames), their tables, and the attachments' expiry sweep. */
export const filesFeature =
  (deps: FilesDeps): FeatureFactory =>
  (host) => {
    const clock = deps.clock ?? host.clock;
    const files = new FilesService(host, deps.blob, new Signer(loadFilesKey(deps.dataDir)), deps.limits, () => clock.now());
    // The dashboard acts for a member, like a CLI with an upload token: no live session behind it.
    const caller = (v: Viewer): Caller => ({ ...v, sessionPubkey: null, peer: null });
    return {
      name: "files",
      migrations: [filesMigration],
      routes: fileRoutes(host, files),
      views: {
        listFiles: (v) => files.listing(caller(v)),
        fileDownload: (v, id) => files.ticket(caller(v), id),
        deleteFile: (v, id) => files.remove(caller(v), id),
        shareFile: (v, input) => files.upload(caller(v), input),
      },
      async sweep() {
        await files.sweep();
      },
      async stop() {
        await deps.blob.close?.();
      },
    };
  };
