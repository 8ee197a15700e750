import { generateSigningKeyPair } from "../crypto/keys.ts";
import { HealthResponse } from "../nodes/api.ts";
import { errorText } from "../protocol/wire-error.ts";
import { BrokerClient } from "./broker-client.ts";
import { type MeshConfig, meshBrokers } from "./config.ts";
import { brokerRequest } from "./http.ts";

/** One broker URL of a mesh, as `status` sees it. */
export interface BrokerProbe {
  url: string;
  reachable: boolean;
  /** HTTP round trip to /healthz, ms */
  rttMs: number | null;
  /** the node that answered */
  nodeId: string | null;
  /** the URL the probe's session connected to: the first reachable one, as a session would */
  connected: boolean;
  error: string | null;
}

export interface MeshProbe {
  slug: string;
  /** the broker URL the probe connected to, else the mesh's first */
  brokerUrl: string;
  /** some broker of the mesh answers */
  reachable: boolean;
  /** HTTP round trip to /healthz, ms */
  rttMs: number | null;
  /** broker clock minus ours, ms (midpoint-corrected) */
  skewMs: number | null;
  /** hello accepted for this member */
  authenticated: boolean;
  peersOnline: number | null;
  error: string | null;
  /** every broker URL of the mesh, in the order a session tries them */
  brokers: BrokerProbe[];
}

async function probeUrl(url: string, caFile: string | undefined, timeoutMs: number): Promise<BrokerProbe & { skewMs: number | null }> {
  try {
    const t0 = Date.now();
    const health = await brokerRequest(url, "GET", "/healthz", HealthResponse, { timeoutMs, caFile });
    const t1 = Date.now();
    return { url, reachable: true, rttMs: t1 - t0, nodeId: health.node.id, connected: false, error: null, skewMs: health.time - (t0 + t1) / 2 };
  } catch (err) {
    return { url, reachable: false, rttMs: null, nodeId: null, connected: false, error: err instanceof Error ? err.message : String(err), skewMs: null };
  }
}

/**
 * Checks one mesh: each of its broker URLs reachable, and, on the first that is (where a session would
 * connect), clock skew and that our member key is still accepted.
 */
export async function probeMesh(mesh: MeshConfig, timeoutMs = 5000): Promise<MeshProbe> {
  const urls = await Promise.all(meshBrokers(mesh).map((u) => probeUrl(u, mesh.caFile, timeoutMs)));
  const brokers: BrokerProbe[] = urls.map(({ skewMs: _, ...b }) => b);
  const first = urls.find((u) => u.reachable);
  const out: MeshProbe = {
    slug: mesh.slug,
    brokerUrl: first?.url ?? mesh.brokerUrl,
    reachable: first !== undefined,
    rttMs: first?.rttMs ?? null,
    skewMs: first?.skewMs ?? null,
    authenticated: false,
    peersOnline: null,
    error: first ? null : (urls[0]?.error ?? "no broker URL"),
    brokers,
  };
  if (!first) return out;
  const client = new BrokerClient({
    mesh,
    pin: first.url,
    session: generateSigningKeyPair(),
    reconnect: false,
    requestTimeoutMs: timeoutMs,
    connectTimeoutMs: timeoutMs,
    displayName: `${mesh.displayName}-probe`,
  });
  try {
    await client.connect();
    out.authenticated = true;
    const connected = brokers.find((b) => b.url === first.url);
    if (connected) connected.connected = true;
    const peers = await client.request({ type: "list_peers" }, "peers_list");
    out.peersOnline = peers.peers.filter((p) => !p.self).length;
  } catch (err) {
    out.error = errorText(err);
  } finally {
    client.close();
  }
  return out;
}
