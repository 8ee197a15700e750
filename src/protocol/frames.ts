import { z } from "zod";
import { JoinGroupFrame, LeaveGroupFrame } from "../groups/frames.ts";
import { ChallengeFrame, HelloAckFrame, HelloFrame } from "../meshes/frames.ts";
import { ListPeersFrame, PeersListFrame, SetStatusFrame, SetSummaryFrame } from "../presence/frames.ts";
import {
  AckFrame,
  FetchQueuedFrame,
  MessageStatusFrame,
  MessageStatusResultFrame,
  PushFrame,
  QueuedMessagesFrame,
  ReceivedFrame,
  SendFrame,
  SurfacedFrame,
} from "../messaging/frames.ts";
import { ForgetFrame, MemoryResultsFrame, MemoryStoredFrame, RecallFrame, RememberFrame } from "../memory/frames.ts";
import { GetStateFrame, ListStateFrame, SetStateFrame, StateChangeFrame, StateListFrame, StateResultFrame } from "../state/frames.ts";
import { ErrorFrame, OkFrame } from "./generic.ts";

/** Everything a client may send. Features add their frames here. */
export const ClientFrame = z.discriminatedUnion("type", [
  HelloFrame,
  ListPeersFrame,
  SetStatusFrame,
  SetSummaryFrame,
  JoinGroupFrame,
  LeaveGroupFrame,
  SendFrame,
  ReceivedFrame,
  SurfacedFrame,
  FetchQueuedFrame,
  MessageStatusFrame,
  SetStateFrame,
  GetStateFrame,
  ListStateFrame,
  RememberFrame,
  RecallFrame,
  ForgetFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientFrameType = ClientFrame["type"];
export type ClientFrameOf<T extends ClientFrameType> = Extract<ClientFrame, { type: T }>;

/** Everything the broker may send. */
export const ServerFrame = z.discriminatedUnion("type", [
  ChallengeFrame,
  HelloAckFrame,
  PeersListFrame,
  ErrorFrame,
  OkFrame,
  AckFrame,
  PushFrame,
  QueuedMessagesFrame,
  MessageStatusResultFrame,
  StateResultFrame,
  StateListFrame,
  StateChangeFrame,
  MemoryStoredFrame,
  MemoryResultsFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type ServerFrameType = ServerFrame["type"];
export type ServerFrameOf<T extends ServerFrameType> = Extract<ServerFrame, { type: T }>;

export const CLIENT_FRAME_TYPES: ReadonlySet<string> = new Set(ClientFrame.options.map((o) => o.shape.type.value));
