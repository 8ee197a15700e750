import { defineCommand } from "citty";
import { brokerPin } from "../../client/config.ts";
import { brokerRequest } from "../../client/http.ts";
import { NodesResponse } from "../../nodes/api.ts";
import { readEnv } from "../../util/env.ts";
import { InvalidArgument } from "../../util/errors.ts";
import { print, printJson, table } from "../output.ts";
import { withExamples } from "../usage.ts";

const ago = (now: number, t: number) => `${Math.max(0, Math.round((now - t) / 1000))} s ago`;

export default withExamples(
  defineCommand({
    meta: { name: "nodes", description: "List the broker nodes of a store: URL, last heartbeat, sessions (the operator)" },
    args: {
      broker: { type: "string", description: "Broker URL (any node of the cluster)", required: true },
      "admin-token": { type: "string", description: "The broker's admin token (or CLAUDEMESH_ADMIN_TOKEN)" },
      json: { type: "boolean", description: "Print JSON" },
    },
    async run({ args }) {
      const token = args["admin-token"] || readEnv().CLAUDEMESH_ADMIN_TOKEN;
      if (!token) throw new InvalidArgument("listing nodes needs the broker's admin token: --admin-token T (or CLAUDEMESH_ADMIN_TOKEN)");
      const res = await brokerRequest(brokerPin(args.broker), "GET", "/admin/nodes", NodesResponse, { auth: { kind: "admin", token } });
      if (args.json) return printJson(res.nodes);
      const now = Date.now();
      const rows = [["NODE", "URL", "STATE", "HEARTBEAT", "SESSIONS"]];
      for (const n of res.nodes) {
        const state = n.alive ? (n.self ? "live (answered)" : "live") : n.stoppedAt === null ? "no heartbeat" : "stopped";
        rows.push([n.id, n.url || "-", state, ago(now, n.heartbeatAt), String(n.sessions)]);
      }
      print(table(rows));
    },
  }),
  'claudemesh nodes --broker http://127.0.0.1:7900 --admin-token "$(cat ~/.claudemesh/broker/admin-token)"',
);
