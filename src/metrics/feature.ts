import type { FeatureFactory } from "../broker/host.ts";
import { errorResponse } from "../broker/http.ts";
import { WireError } from "../protocol/wire-error.ts";
import type { PromMetrics } from "./registry.ts";

/** The Prometheus text of `metrics`, as a response. */
export async function metricsResponse(metrics: PromMetrics): Promise<Response> {
  return new Response(await metrics.text(), { headers: { "content-type": metrics.contentType, "cache-control": "no-store" } });
}

/**
 * GET /metrics for the operator: the admin token, since the numbers describe every mesh on the broker.
 * (`--metrics-host` serves the same text on a separate, unauthenticated listener for a scraper on a
 * trusted network; see server/app.ts.)
 */
export const metricsFeature =
  (metrics: PromMetrics): FeatureFactory =>
  (host) => {
    host.metrics.gauge("claudemesh_connections", () => [{ value: host.peers.counts().connections }]);
    host.metrics.gauge("claudemesh_sessions", () => [...host.peers.counts().sessionsByMesh].map(([mesh, value]) => ({ value, labels: { mesh } })));
    return {
      name: "metrics",
      routes: {
        "/metrics": {
          GET: (req) => {
            if (!host.auth.isAdmin(req)) return errorResponse(new WireError("unauthorized", "the admin token is required for /metrics", 401));
            return metricsResponse(metrics);
          },
        },
      },
    };
  };
