/**
 * A scripted fake of the Anthropic Messages API on loopback, for driving the real Claude Code CLI.
 *
 * Every request is recorded (its body is the evidence of what the model saw). Requests of the agent loop
 * ("main": they carry the session's tools) are answered by the test's script; everything else Claude Code
 * sends on the side (session titles as JSON, summaries, …) gets a short canned answer, so it never consumes
 * a scripted step.
 */

export type Json = any;

export interface RecordedRequest {
  seq: number;
  /** ms epoch when the request arrived */
  receivedAt: number;
  /** ms epoch when the whole response was handed to the socket (null while it is pending) */
  respondedAt: number | null;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Json;
  kind: "main" | "side" | "count_tokens" | "other";
  /** who sent it, from `identify` (main requests only); null if unknown */
  session: string | null;
  /** what the fake answered */
  reply?: Reply;
}

export type Reply =
  | { type: "text"; text: string }
  /** a tool call, streamed as input_json_delta chunks, with stop_reason "tool_use" */
  | { type: "tool_use"; name: string; input: Json; id?: string /** optional text block before the call */; text?: string };

export const text = (t: string): Reply => ({ type: "text", text: t });
export const toolUse = (name: string, input: Json, preface?: string): Reply => ({ type: "tool_use", name, input, ...(preface ? { text: preface } : {}) });
/** The model calling claudemesh's send_message tool. */
export const sendMessage = (to: string, message: string, priority?: string): Reply =>
  toolUse("mcp__claudemesh__send_message", { to, message, ...(priority ? { priority } : {}) });

/** Decides the reply to a main request; may take its time (a model "thinking" = the session stays mid-turn). */
export type MainHandler = (req: RecordedRequest) => Reply | Promise<Reply>;

export interface FakeOptions {
  /** names the session a main request comes from (e.g. from the MCP instructions in it, or a header) */
  identify?: (body: Json, headers: Record<string, string>) => string | null;
  /** answers main requests; default: a short text reply */
  handler?: MainHandler;
  /** which /v1/messages requests belong to the agent loop; default `isMainRequest` */
  isMain?: (body: Json) => boolean;
  /** answers /v1/messages/count_tokens; default 100, whatever was sent */
  countTokens?: (body: Json) => number;
}

// ---------------------------------------------------------------------------------------------------------
// Reading request bodies

type Block = { type: string; text?: string; [k: string]: Json };

function blocksOf(content: Json): Block[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content : [];
}

/**
 * Agent-loop requests carry the tool list; Claude Code's side requests (title generation asks for a JSON
 * object via output_config.format, summaries…) carry none.
 */
export function isMainRequest(body: Json): boolean {
  return Array.isArray(body?.tools) && body.tools.length > 0 && !body?.output_config?.format;
}

/**
 * Everything that frames the conversation: the `system` blocks plus `role: "system"` messages, which is
 * where Claude Code 2.1.x puts "# MCP Server Instructions" (mid-conversation system messages).
 */
export function systemText(body: Json): string {
  const sys =
    typeof body?.system === "string"
      ? body.system
      : blocksOf(body?.system)
          .map((b) => b.text ?? "")
          .join("\n");
  const sysMsgs = (body?.messages ?? []).filter((m: Json) => m.role === "system").flatMap((m: Json) => blocksOf(m.content).map((b) => b.text ?? ""));
  return [sys, ...sysMsgs].join("\n");
}

/** The "# MCP Server Instructions" section Claude Code builds from the servers' `instructions`, or null. */
export function mcpInstructions(body: Json): string | null {
  const sys = systemText(body);
  const i = sys.indexOf("# MCP Server Instructions");
  if (i < 0) return null;
  const rest = sys.slice(i);
  // The section runs until the next part of the prompt (skills list, next heading).
  const end = rest.slice(1).search(/\n(# |The following skills)/);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

/** The MCP instructions begin `You are "<name>" on the claudemesh mesh "<slug>"`: the session's mesh name, or null. */
export function nameInInstructions(body: Json): string | null {
  return /You are "([^"]+)" on the claudemesh mesh/.exec(mcpInstructions(body) ?? "")?.[1] ?? null;
}

/** Each real claude of a suite gets its own API key, so requests stay attributable without the instructions. */
export const sessionApiKey = (name: string) => `sk-ant-e2e-${name.toLowerCase()}-0000`;

/** `identify` for claudemesh sessions: the name in the MCP instructions, else the one in the API key (capitalised). */
export function identifyMeshSession(body: Json, headers: Record<string, string>): string | null {
  return nameInInstructions(body) ?? /^sk-ant-e2e-(\w+)-0000$/.exec(headers["x-api-key"] ?? "")?.[1]?.replace(/^./, (c) => c.toUpperCase()) ?? null;
}

/** How often `text` occurs anywhere in a request (system prompt, system messages, turns), as sent. */
export function timesIn(body: Json, text: string): number {
  const needle = JSON.stringify(text).slice(1, -1);
  return JSON.stringify(body).split(needle).length - 1;
}

export function toolNames(body: Json): string[] {
  return (body?.tools ?? []).map((t: Json) => t.name as string);
}

/** The last `role: "user"` message's blocks (tool results and channel blocks land there). */
export function lastUserBlocks(body: Json): Block[] {
  const users = (body?.messages ?? []).filter((m: Json) => m.role === "user");
  return blocksOf(users[users.length - 1]?.content);
}

/** All text the user side of the conversation holds (user turns, tool results), in order. */
export function userText(body: Json): string {
  const parts: string[] = [];
  for (const m of body?.messages ?? []) {
    if (m.role !== "user") continue;
    for (const b of blocksOf(m.content)) {
      if (b.type === "text") parts.push(b.text ?? "");
      if (b.type === "tool_result")
        parts.push(
          typeof b.content === "string"
            ? b.content
            : blocksOf(b.content)
                .map((x) => x.text ?? "")
                .join("\n"),
        );
    }
  }
  return parts.join("\n");
}

export interface ChannelBlock {
  source: string;
  attrs: Record<string, string>;
  text: string;
}

const CHANNEL_RE = /<channel\s+([^>]*)>\n?([\s\S]*?)\n?<\/channel>/g;
const ATTR_RE = /([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"/g;

export function parseChannels(s: string): ChannelBlock[] {
  const out: ChannelBlock[] = [];
  for (const m of s.matchAll(CHANNEL_RE)) {
    const attrs: Record<string, string> = {};
    for (const a of (m[1] ?? "").matchAll(ATTR_RE)) attrs[a[1] as string] = a[2] as string;
    out.push({ source: attrs.source ?? "", attrs, text: m[2] ?? "" });
  }
  return out;
}

/** Channel blocks anywhere in the conversation. */
export const channelBlocks = (body: Json) => parseChannels(userText(body));

/** Channel blocks in the last user message: what started (or was added to) this request. */
export const newChannelBlocks = (body: Json) =>
  parseChannels(
    lastUserBlocks(body)
      .filter((b) => b.type === "text")
      .map((b) => b.text ?? "")
      .join("\n"),
  );

/** The tool_result in the last user message, if this request continues after a tool call. */
export function lastToolResult(body: Json): { toolUseId: string; text: string; isError: boolean } | null {
  const b = lastUserBlocks(body).find((x) => x.type === "tool_result");
  if (!b) return null;
  const t =
    typeof b.content === "string"
      ? b.content
      : blocksOf(b.content)
          .map((x) => x.text ?? "")
          .join("\n");
  return { toolUseId: String(b.tool_use_id), text: t, isError: Boolean(b.is_error) };
}

/** The text the user typed last (ignoring system reminders), if the last user message is a typed prompt. */
export function lastPrompt(body: Json): string | null {
  const texts = lastUserBlocks(body)
    .filter((b) => b.type === "text" && !(b.text ?? "").startsWith("<system-reminder>") && !(b.text ?? "").startsWith("<channel"))
    .map((b) => b.text ?? "");
  return texts.length ? texts.join("\n") : null;
}

// ---------------------------------------------------------------------------------------------------------
// Answers

let ids = 0;
const nextId = (p: string) => `${p}_fake${Date.now().toString(36)}${(++ids).toString(36)}`;

function sse(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

function contentOf(reply: Reply): Json[] {
  if (reply.type === "text") return [{ type: "text", text: reply.text }];
  const blocks: Json[] = [];
  if (reply.text) blocks.push({ type: "text", text: reply.text });
  blocks.push({ type: "tool_use", id: reply.id ?? nextId("toolu"), name: reply.name, input: reply.input });
  return blocks;
}

const usage = (output: number) => ({ input_tokens: 50, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });

/** The SSE stream of one assistant message: the events the Messages API sends, in its order. */
export function streamOf(reply: Reply, model: string): string {
  const content = contentOf(reply);
  const stop = reply.type === "tool_use" ? "tool_use" : "end_turn";
  let s = sse("message_start", {
    message: { id: nextId("msg"), type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: usage(1) },
  });
  content.forEach((block, index) => {
    if (block.type === "text") {
      s += sse("content_block_start", { index, content_block: { type: "text", text: "" } });
      s += sse("content_block_delta", { index, delta: { type: "text_delta", text: block.text } });
    } else {
      s += sse("content_block_start", { index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      const json = JSON.stringify(block.input);
      // In pieces, as the real API streams a tool's input.
      const cut = Math.max(1, Math.floor(json.length / 2));
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        if (part) s += sse("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: part } });
      }
    }
    s += sse("content_block_stop", { index });
  });
  s += sse("message_delta", { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 20 } });
  s += sse("message_stop", {});
  return s;
}

export function jsonOf(reply: Reply, model: string): Json {
  return {
    id: nextId("msg"),
    type: "message",
    role: "assistant",
    model,
    content: contentOf(reply),
    stop_reason: reply.type === "tool_use" ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: usage(20),
  };
}

/** A minimal value matching a JSON schema (title generation asks for `{"title": string}`). */
function sampleOf(schema: Json): Json {
  switch (schema?.type) {
    case "object": {
      const o: Json = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) o[k] = sampleOf(v);
      return o;
    }
    case "array":
      return [];
    case "string":
      return schema.enum?.[0] ?? "Mesh test session";
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}

function sideReply(body: Json): Reply {
  const format = body?.output_config?.format;
  if (format?.type === "json_schema") return text(JSON.stringify(sampleOf(format.schema)));
  return text("ok");
}

function headersOf(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------

interface Waiter {
  pred: (r: RecordedRequest) => boolean;
  resolve: (r: RecordedRequest) => void;
}

export class FakeAnthropic {
  readonly requests: RecordedRequest[] = [];
  handler: MainHandler;
  private readonly server: ReturnType<typeof Bun.serve>;
  private waiters: Waiter[] = [];
  private seq = 0;

  constructor(private readonly opts: FakeOptions = {}) {
    this.handler = opts.handler ?? (() => text("ok"));
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      // Held requests (a model taking its time) must not be cut by Bun's idle timeout.
      idleTimeout: 0,
      fetch: (req) => this.fetch(req),
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  private record(r: RecordedRequest): void {
    this.requests.push(r);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(r)) return true;
      w.resolve(r);
      return false;
    });
  }

  private async fetch(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const raw = await req.text();
    let body: Json = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const isMessages = req.method === "POST" && url.pathname === "/v1/messages";
    const kind: RecordedRequest["kind"] =
      req.method === "POST" && url.pathname === "/v1/messages/count_tokens"
        ? "count_tokens"
        : isMessages
          ? (this.opts.isMain ?? isMainRequest)(body)
            ? "main"
            : "side"
          : "other";
    const headers = headersOf(req.headers);
    const rec: RecordedRequest = {
      seq: ++this.seq,
      receivedAt: Date.now(),
      respondedAt: null,
      method: req.method,
      path: url.pathname + url.search,
      headers,
      body,
      kind,
      session: kind === "main" ? (this.opts.identify?.(body, headers) ?? null) : null,
    };
    this.record(rec);

    if (kind === "count_tokens") return this.respond(rec, Response.json({ input_tokens: this.opts.countTokens?.(body) ?? 100 }));
    if (kind === "other") return this.respond(rec, Response.json({}));

    let reply: Reply;
    try {
      reply = kind === "main" ? await this.handler(rec) : sideReply(body);
    } catch (err) {
      // A broken script shows up in the recorded requests and as an API error in the pane.
      reply = text(`fake-anthropic script error: ${err instanceof Error ? err.message : String(err)}`);
      console.error("[fake-anthropic] handler threw", err);
    }
    rec.reply = reply;
    const model = String(body?.model ?? "claude-fake");
    if (body?.stream) {
      return this.respond(rec, new Response(streamOf(reply, model), { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } }));
    }
    return this.respond(rec, Response.json(jsonOf(reply, model)));
  }

  private respond(rec: RecordedRequest, res: Response): Response {
    rec.respondedAt = Date.now();
    return res;
  }

  /** Resolves with the first recorded request (past or future) that matches; fails after timeoutMs. */
  waitFor(what: string, pred: (r: RecordedRequest) => boolean, timeoutMs = 30_000): Promise<RecordedRequest> {
    const found = this.requests.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`fake-anthropic: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  main(session?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.kind === "main" && (session === undefined || r.session === session));
  }

  /** A compact, readable log of every request, for failure reports. */
  dump(maxChars = 600): string {
    return this.requests
      .map((r) => {
        const head = `#${r.seq} +${r.receivedAt - (this.requests[0]?.receivedAt ?? 0)}ms ${r.method} ${r.path} ${r.kind}${r.session ? ` [${r.session}]` : ""}`;
        if (r.kind !== "main" && r.kind !== "side") return head;
        const last = JSON.stringify(lastUserBlocks(r.body)).slice(-maxChars);
        return `${head}\n   last user: ${last}\n   reply: ${JSON.stringify(r.reply ?? null).slice(0, 300)}`;
      })
      .join("\n");
  }

  /** Every recorded request, full bodies included, as JSON lines (for post-mortems). */
  save(file: string): void {
    require("node:fs").writeFileSync(file, this.requests.map((r) => `${JSON.stringify(r)}\n`).join(""));
  }

  stop(): void {
    this.server.stop(true);
  }
}
