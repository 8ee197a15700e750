import { defineCommand } from "citty";
import { loadConfig } from "../../client/config.ts";
import { probeMesh } from "../../client/probe.ts";
import { print, printJson, table } from "../output.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "status", description: "Broker reachability, round-trip time and peers online, per joined mesh" },
    args: { json: { type: "boolean", description: "Print JSON" } },
    async run({ args }) {
      const { meshes } = loadConfig();
      const probes = await Promise.all(meshes.map((m) => probeMesh(m)));
      if (args.json) {
        printJson(probes);
      } else if (probes.length === 0) {
        print("No meshes yet. Join one with `claudemesh join <invite-url>`.");
      } else {
        const rows = [["MESH", "BROKER", "STATE", "RTT", "SKEW", "PEERS"]];
        for (const p of probes) {
          const state = p.authenticated ? "ok" : p.reachable ? `refused: ${p.error}` : `unreachable: ${p.error}`;
          rows.push([
            p.slug,
            p.brokerUrl,
            state,
            p.rttMs === null ? "-" : `${p.rttMs}ms`,
            p.skewMs === null ? "-" : `${Math.round(p.skewMs)}ms`,
            p.peersOnline === null ? "-" : String(p.peersOnline),
          ]);
        }
        print(table(rows));
      }
      return probes.every((p) => p.authenticated) ? 0 : 1;
    },
  }),
  "claudemesh status",
);
