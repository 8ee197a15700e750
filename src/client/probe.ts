import { generateSigningKeyPair } from "../crypto/keys.ts";
import { HealthResponse } from "../nodes/api.ts";
import { errorText } from "../protocol/wire-error.ts";
import { BrokerClient } from "./broker-client.ts";
import type { MeshConfig } from "./config.ts";
import { brokerRequest } from "./http.ts";

export interface MeshProbe {
  slug: string;
  brokerUrl: string;
  reachable: boolean;
  /** HTTP round trip to /healthz, ms */
  rttMs: number | null;
  /** broker clock minus ours, ms (midpoint-corrected) */
  skewMs: number | null;
  /** hello accepted for this member */
  authenticated: boolean;
  peersOnline: number | null;
  error: string | null;
}

/** Checks one mesh: broker reachable, clock skew, and that our member key is still accepted. */
export async function probeMesh(mesh: MeshConfig, timeoutMs = 5000): Promise<MeshProbe> {
  const out: MeshProbe = {
    slug: mesh.slug,
    brokerUrl: mesh.brokerUrl,
    reachable: false,
    rttMs: null,
    skewMs: null,
    authenticated: false,
    peersOnline: null,
    error: null,
  };
  try {
    const t0 = Date.now();
    const health = await brokerRequest(mesh.brokerUrl, "GET", "/healthz", HealthResponse, { timeoutMs, caFile: mesh.caFile });
    const t1 = Date.now();
    out.reachable = true;
    out.rttMs = t1 - t0;
    out.skewMs = health.time - (t0 + t1) / 2;
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    return out;
  }
  const client = new BrokerClient({
    mesh,
    session: generateSigningKeyPair(),
    reconnect: false,
    requestTimeoutMs: timeoutMs,
    displayName: `${mesh.displayName}-probe`,
  });
  try {
    await client.connect();
    out.authenticated = true;
    const peers = await client.request({ type: "list_peers" }, "peers_list");
    out.peersOnline = peers.peers.filter((p) => !p.self).length;
  } catch (err) {
    out.error = errorText(err);
  } finally {
    client.close();
  }
  return out;
}
