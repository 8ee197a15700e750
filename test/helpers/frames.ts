import type { BrokerClient } from "../../src/client/broker-client.ts";
import type { ServerFrame, ServerFrameOf, ServerFrameType } from "../../src/protocol/frames.ts";

export interface FrameLog {
  /** every unsolicited frame the client received, in arrival order */
  frames: ServerFrame[];
  of<T extends ServerFrameType>(type: T): ServerFrameOf<T>[];
  /** Resolves with the first recorded frame (past or future) of that type matching `pred`. */
  waitFor<T extends ServerFrameType>(type: T, pred?: (f: ServerFrameOf<T>) => boolean, timeoutMs?: number): Promise<ServerFrameOf<T>>;
}

/** Records a client's unsolicited frames (pushes, state changes) from now on. */
export function recordFrames(client: BrokerClient): FrameLog {
  const frames: ServerFrame[] = [];
  const waiters = new Set<(f: ServerFrame) => void>();
  client.on("frame", (f) => {
    frames.push(f);
    for (const w of [...waiters]) w(f);
  });
  const of = <T extends ServerFrameType>(type: T) => frames.filter((f): f is ServerFrameOf<T> => f.type === type);
  return {
    frames,
    of,
    waitFor(type, pred = () => true, timeoutMs = 5_000) {
      const hit = of(type).find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${type} frame matching within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (f: ServerFrame) => {
          if (f.type !== type || !pred(f as ServerFrameOf<typeof type>)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(f as ServerFrameOf<typeof type>);
        };
        waiters.add(check);
      });
    },
  };
}
