/** An invite URL: the token in the path, the mesh root key (base64url) in the fragment, which browsers and proxies never send. */
export function inviteUrl(publicUrl: string, token: string, rootKey: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/join/${token}#${rootKey}`;
}
