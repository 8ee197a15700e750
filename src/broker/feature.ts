import type { ClientFrameOf, ClientFrameType, ServerFrame } from "../protocol/frames.ts";
import type { Broker } from "./broker.ts";
import type { Connection, PeerState } from "./peer.ts";

export interface HandlerContext {
  broker: Broker;
  conn: Connection;
  /** The authenticated session; handlers other than hello only run once it is set. */
  peer: PeerState;
  /** Sends a response frame carrying the request's id. */
  reply(frame: ServerFrame): void;
}

export type Handler<T extends ClientFrameType> = (ctx: HandlerContext, frame: ClientFrameOf<T>) => Promise<void> | void;
export type HandlerMap = { [T in ClientFrameType]?: Handler<T> };

/** A vertical slice of the broker: its frame handlers plus hooks into the session lifecycle. */
export interface BrokerFeature {
  name: string;
  handlers: HandlerMap;
  /** After hello_ack was sent. */
  onPeerConnected?(peer: PeerState): Promise<void> | void;
  onPeerStatusChanged?(peer: PeerState): Promise<void> | void;
  onPeerDisconnected?(peer: PeerState): Promise<void> | void;
  /** Periodic housekeeping (expiry and the like). */
  sweep?(): Promise<void>;
  stop?(): Promise<void> | void;
}

export type FeatureFactory = (broker: Broker) => BrokerFeature;
