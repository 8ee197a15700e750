import { defineCommand } from "citty";
import { defaultDataDir, startBroker } from "../../server/app.ts";
import { readEnv } from "../../util/env.ts";
import { InvalidArgument } from "../../util/errors.ts";
import { setLogFormat } from "../../util/log.ts";
import { print } from "../output.ts";
import { withExamples } from "../usage.ts";

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `100M`, `10G`, `512K`, `1048576`: binary units, as the defaults are written. */
function parseSize(raw: string, flag: string): number {
  const m = raw
    .trim()
    .toUpperCase()
    .match(/^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?$/);
  const n = m ? Math.floor(Number(m[1]) * (UNITS[m[2] ?? ""] ?? 1)) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgument(`invalid ${flag} ${raw}: expected a size like 100M or 10G`);
  return n;
}

export default withExamples(
  defineCommand({
    meta: { name: "broker", description: "Run the claudemesh broker (HTTP + WebSocket)" },
    args: {
      host: { type: "string", description: "Interface to listen on", default: "127.0.0.1" },
      port: { type: "string", description: "Port to listen on", default: "7900" },
      "data-dir": { type: "string", description: "Where the SQLite file, blobs and secrets live (default ~/.claudemesh/broker)" },
      "public-url": { type: "string", description: "Base URL peers reach this broker at (default http://host:port, https:// with TLS)" },
      "tls-cert": { type: "string", description: "PEM certificate (chain) file: serve HTTPS/WSS (needs --tls-key)" },
      "tls-key": { type: "string", description: "PEM private key file for --tls-cert" },
      "max-file-size": { type: "string", description: "Largest shared file or attachment, e.g. 100M, 2G (default 100M)" },
      "mesh-storage-quota": { type: "string", description: "Bytes of live files per mesh, e.g. 10G (default 10G)" },
      "admin-token-file": {
        type: "string",
        description: "Where the admin token is kept (default <data-dir>/admin-token); give several nodes of one Postgres the same one",
      },
      "node-id": { type: "string", description: "This broker's node id among several on one Postgres (default: kept in the data dir)" },
      "metrics-host": {
        type: "string",
        description: "Also serve GET /metrics without the admin token on this host:port (a trusted interface), e.g. 127.0.0.1:9464",
      },
      "log-format": { type: "string", description: "text (default) or json: one object a line on stderr", default: "text" },
    },
    async run({ args }) {
      const port = Number(args.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgument(`invalid --port ${args.port}`);
      const [certFile, keyFile] = [args["tls-cert"], args["tls-key"]];
      if ((certFile === undefined) !== (keyFile === undefined)) throw new InvalidArgument("--tls-cert and --tls-key go together: give both or neither");
      const logFormat = args["log-format"];
      if (logFormat !== "text" && logFormat !== "json") throw new InvalidArgument(`invalid --log-format ${logFormat}: text or json`);
      setLogFormat(logFormat);
      let metricsListen: { host: string; port: number } | undefined;
      if (args["metrics-host"] !== undefined) {
        const m = args["metrics-host"].match(/^(\[[^\]]+\]|[^:]+):(\d+)$/);
        const mport = Number(m?.[2]);
        if (!m || !Number.isInteger(mport) || mport < 0 || mport > 65535)
          throw new InvalidArgument(`invalid --metrics-host ${args["metrics-host"]}: expected host:port`);
        metricsListen = { host: (m[1] as string).replace(/^\[|\]$/g, ""), port: mport };
      }
      const env = readEnv();
      const databaseUrl = env.DATABASE_URL || undefined;
      const files: { maxFileBytes?: number; meshQuotaBytes?: number } = {};
      if (args["max-file-size"] !== undefined) files.maxFileBytes = parseSize(args["max-file-size"], "--max-file-size");
      if (args["mesh-storage-quota"] !== undefined) files.meshQuotaBytes = parseSize(args["mesh-storage-quota"], "--mesh-storage-quota");
      const b = await startBroker({
        host: args.host,
        port,
        dataDir: args["data-dir"] ?? env.CLAUDEMESH_BROKER_DATA_DIR ?? defaultDataDir(),
        databaseUrl,
        dbSchema: env.CLAUDEMESH_DB_SCHEMA || undefined,
        publicUrl: args["public-url"],
        ...(certFile && keyFile ? { tls: { certFile, keyFile } } : {}),
        files,
        ...(args["node-id"] !== undefined ? { nodeId: args["node-id"] } : {}),
        ...(args["admin-token-file"] !== undefined ? { adminTokenFile: args["admin-token-file"] } : {}),
        logRequests: process.env.CLAUDEMESH_LOG_REQUESTS === "1",
        ...(metricsListen ? { metricsListen } : {}),
      });
      print(
        `claudemesh broker listening on ${b.listenUrl.replace(/^https?:\/\//, "")} (store: ${b.store.dialect}${b.store.dialect === "sqlite" ? `, data dir ${b.dataDir}` : ""})`,
      );
      print(`Public URL (in invites, for clients): ${b.url}`);
      if (b.store.dialect === "postgres") print(`Node id: ${b.node.id} (several brokers may share this Postgres: \`claudemesh nodes\` lists them)`);
      if (b.metricsUrl) print(`Metrics (Prometheus, no token): ${b.metricsUrl}/metrics`);
      const tokenFile = b.adminTokenFile;
      if (b.adminTokenCreated) {
        print("");
        print(`Admin token (shown once; also in ${tokenFile}, mode 0600):`);
        print(`  ${b.adminToken}`);
      }
      if (b.quickStart?.invite) {
        const { url, maxUses, expiresAt } = b.quickStart.invite;
        const uses = maxUses === null ? "any number of joins" : maxUses === 1 ? "one join" : `${maxUses} joins`;
        print("");
        print(
          `Join the default mesh from any Claude Code machine with (${uses}, ${expiresAt === null ? "never expires" : `until ${new Date(expiresAt).toISOString()}`}):`,
        );
        print(`  claudemesh join '${url}'`);
      }
      if (b.quickStart) {
        // The operator is no member of `default`; its admin token manages it (and every other mesh here).
        print("");
        print("Mint more invites to the default mesh (`members default …` the same way lists and revokes):");
        print(`  claudemesh invite default --broker ${b.url} --admin-token "$(cat ${tokenFile})"`);
      }
      print("");
      await new Promise<void>((resolve) => {
        const shutdown = (sig: string) => {
          process.stderr.write(`claudemesh broker: ${sig}, shutting down\n`);
          b.stop().then(resolve, resolve);
        };
        process.once("SIGINT", () => shutdown("SIGINT"));
        process.once("SIGTERM", () => shutdown("SIGTERM"));
      });
      return 0;
    },
  }),
  "claudemesh broker --port 7900 --public-url https://mesh.example.com",
);
