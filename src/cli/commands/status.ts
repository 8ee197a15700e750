import { defineCommand } from "citty";
import { loadConfig } from "../../client/config.ts";
import { probeMesh } from "../../client/probe.ts";
import { print, printJson, table } from "../output.ts";
import { withExamples } from "../usage.ts";

export default withExamples(
  defineCommand({
    meta: { name: "status", description: "Each broker URL of every joined mesh: reachable, connected, round-trip time and peers online" },
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
          // One row per broker URL, in the order a session tries them; the session's own figures on the
          // row of the one the probe connected to (or was refused by).
          p.brokers.forEach((b, i) => {
            const main = b.url === p.brokerUrl && p.reachable;
            const state = !b.reachable ? `unreachable: ${b.error}` : main ? (p.authenticated ? "ok, connected" : `refused: ${p.error}`) : "reachable";
            rows.push([
              i === 0 ? p.slug : "",
              b.url,
              state,
              b.rttMs === null ? "-" : `${b.rttMs}ms`,
              main && p.skewMs !== null ? `${Math.round(p.skewMs)}ms` : "-",
              main && p.peersOnline !== null ? String(p.peersOnline) : "-",
            ]);
          });
        }
        print(table(rows));
      }
      return probes.every((p) => p.authenticated) ? 0 : 1;
    },
  }),
  "claudemesh status",
);
