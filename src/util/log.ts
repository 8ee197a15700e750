/**
 * Logs go to stderr only: `claudemesh mcp` owns stdout for JSON-RPC.
 * Values under secret-looking keys are redacted so no token or key reaches a log.
 */
const SECRET_KEY = /token|secret|signature|ciphertext|key|password|authorization/i;

function redact(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(redact);
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(val);
  return out;
}

export type LogFormat = "text" | "json";
let format: LogFormat = "text";

/** `--log-format json`: one object a line (time, level, event, then the fields), for log shippers. */
export function setLogFormat(f: LogFormat): void {
  format = f;
}

function write(level: string, msg: string, fields?: Record<string, unknown>): void {
  const time = new Date().toISOString();
  if (format === "json") {
    // the fixed keys last: a field can never pass itself off as the time, level or event
    process.stderr.write(`${JSON.stringify({ ...(fields ? (redact(fields) as Record<string, unknown>) : {}), time, level, event: msg })}\n`);
    return;
  }
  const extra = fields ? " " + JSON.stringify(redact(fields)) : "";
  process.stderr.write(`${time} ${level} ${msg}${extra}\n`);
}

export const log = {
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};

export type Logger = typeof log;
