/** Small server-rendered pages (sign-in, refused login): no script, the text escaped by Bun. */
export function messagePage(status: number, title: string, parts: (string | { code: string })[]): Response {
  const body = parts.map((p) => (typeof p === "string" ? `<p>${Bun.escapeHTML(p)}</p>` : `<pre><code>${Bun.escapeHTML(p.code)}</code></pre>`)).join("\n");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>${Bun.escapeHTML(title)} · claudemesh</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:10vh auto;padding:0 1.25rem;color:#1d2330;background:#f7f8fa}
pre{background:#e8ebf0;padding:.75rem 1rem;border-radius:.5rem;font-size:1.05rem;overflow-x:auto}
h1{font-size:1.4rem}
@media (prefers-color-scheme: dark){body{color:#e6e9ef;background:#14171d}pre{background:#222733}}
</style></head>
<body><main><h1>${Bun.escapeHTML(title)}</h1>
${body}
</main></body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}
