import type { Bus } from "../broker/bus.ts";
import { NODES_LIVE, NodesLive } from "../nodes/api.ts";
import { BrokerUrl } from "../protocol/common.ts";

/**
 * The live broker nodes' public URLs as the nodes feature last announced them on the bus, for
 * hello_ack's `brokers`. Only valid http(s) URLs, each once: a node started with an odd --public-url
 * must not make every client's hello_ack unparsable.
 */
export function liveBrokers(bus: Bus): () => string[] {
  let urls: string[] = [];
  bus.subscribe(NODES_LIVE, (payload) => {
    const valid = NodesLive.parse(payload).urls.filter((u) => BrokerUrl.safeParse(u).success);
    urls = [...new Set(valid)].slice(0, 64);
  });
  return () => urls;
}
