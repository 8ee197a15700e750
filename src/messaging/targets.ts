import type { PeerRegistry } from "../broker/host.ts";
import type { PeerState } from "../broker/peer.ts";
import { WireError } from "../protocol/wire-error.ts";

export const isBroadcast = (t: string) => t === "*" || t === "@all";
export const isGroupTarget = (t: string) => t.startsWith("@") || t === "*";

/**
 * Resolves targets against the connected sessions of one mesh: names match display names (a send to
 * yourself by name is allowed), `@group`, `@all` and `*` exclude the sender. Each session appears once,
 * whatever the overlap. A target that matches nobody fails the whole send, naming the target.
 */
export function resolveTargets(targets: string[], registry: Pick<PeerRegistry, "peersOf" | "named">, sender: PeerState): PeerState[] {
  const out = new Map<string, PeerState>();
  const unmatched: string[] = [];
  let everyone: PeerState[] | undefined;
  const all = () => (everyone ??= registry.peersOf(sender.meshId));
  for (const raw of targets) {
    const t = raw.trim();
    let matched: PeerState[];
    if (isBroadcast(t)) matched = all().filter((p) => p !== sender);
    else if (t.startsWith("@")) matched = all().filter((p) => p !== sender && p.groups.has(t.slice(1)));
    else matched = registry.named(sender.meshId, t);
    if (matched.length === 0) unmatched.push(t);
    for (const p of matched) out.set(p.sessionPubkey, p);
  }
  if (unmatched.length > 0) {
    const list = unmatched.map((t) => `"${t}"`).join(", ");
    throw new WireError("unknown_target", `no connected peer matches ${list}; nothing was sent`);
  }
  return [...out.values()];
}
