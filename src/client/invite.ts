import { InvalidArgument } from "../util/errors.ts";

export interface ParsedInvite {
  brokerUrl: string;
  token: string;
  rootKey: string | null;
}

/** `http(s)://broker/join/<token>#<root key>` → parts. The fragment never leaves this machine. */
export function parseInviteUrl(input: string): ParsedInvite {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new InvalidArgument(`not an invite URL: ${input}`);
  }
  const m = url.pathname.match(/^(.*)\/join\/([A-Za-z0-9_-]+)\/?$/);
  if (!m || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new InvalidArgument("an invite URL looks like https://<broker>/join/<token>#<key>");
  }
  const rootKey = url.hash.length > 1 ? url.hash.slice(1) : null;
  if (rootKey !== null && !/^[A-Za-z0-9_-]{43}$/.test(rootKey)) throw new InvalidArgument("the invite's key (after #) is malformed");
  return { brokerUrl: `${url.protocol}//${url.host}${m[1]}`, token: m[2] as string, rootKey };
}

export const wsUrlOf = (brokerUrl: string) => brokerUrl.replace(/^http/, "ws").replace(/\/+$/, "") + "/ws";
