/** A server on loopback that answers each path with a fixed status and JSON body: a broken or hostile broker. */
export function fixedServer(answers: Record<string, [number, string]>) {
  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const [status, body] = answers[new URL(req.url).pathname] ?? [500, ""];
      return new Response(body, { status, headers: { "content-type": "application/json" } });
    },
  });
}
