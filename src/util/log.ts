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

function write(level: string, msg: string, fields?: Record<string, unknown>): void {
  const extra = fields ? " " + JSON.stringify(redact(fields)) : "";
  process.stderr.write(`${new Date().toISOString()} ${level} ${msg}${extra}\n`);
}

export const log = {
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};

export type Logger = typeof log;
