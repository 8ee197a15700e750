import { z } from "zod";

/** A broker node as `/healthz` shows it. */
export const NodeRef = z.object({ id: z.string(), url: z.string() });

/** `GET /healthz`: up, which node answered, and the live nodes it sees (for clients and load balancers). */
export const HealthResponse = z.object({ ok: z.literal(true), version: z.string(), time: z.number(), node: NodeRef, nodes: z.array(NodeRef) });

/** One node as the operator's `GET /admin/nodes` lists it. */
export const NodeInfo = NodeRef.extend({
  startedAt: z.number(),
  heartbeatAt: z.number(),
  /** null while the node runs; when it stopped, or was declared dead */
  stoppedAt: z.number().nullable(),
  alive: z.boolean(),
  /** live sessions on that node at its last heartbeat */
  sessions: z.number(),
  /** the node that answered */
  self: z.boolean(),
});
export const NodesResponse = z.object({ nodes: z.array(NodeInfo) });
export type NodeInfo = z.infer<typeof NodeInfo>;

/** Published on the host bus by the node that declares another dead: its sessions are gone. */
export const NODE_DEAD = "nodes.dead";
export const NodeDead = z.object({ nodeId: z.string() });

/** Published on the host bus after every heartbeat: the live nodes' public URLs (hello_ack's `brokers`). */
export const NODES_LIVE = "nodes.live";
export const NodesLive = z.object({ urls: z.array(z.string()) });
