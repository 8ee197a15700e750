import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import type { z } from "zod";
import { parseWire } from "../protocol/codec.ts";
import { HttpErrorBody } from "../protocol/errors.ts";
import { WireError } from "../protocol/wire-error.ts";
import { BrokerUnreachable, InvalidArgument, UnexpectedAnswer } from "../util/errors.ts";
import type { MeshConfig } from "../client/config.ts";
import { brokerRequest } from "../client/http.ts";
import { tlsOptions } from "../client/tls.ts";
import { DownloadTicket, FileDeleted, FileInfo, FileList, FileStatus, FileToken } from "./api.ts";

/** Bytes moved so far of `total`; called as they move (the CLI draws a progress bar from it). */
export type Progress = (done: number, total: number) => void;

async function failure(res: Response, what: string): Promise<Error> {
  const body = parseWire(HttpErrorBody, await res.json().catch(() => null));
  if (body.ok) return new WireError(body.data.error.code, body.data.error.message ?? what, res.status);
  // Bun's own refusal of a body past the server's limit carries no JSON
  if (res.status === 413) return new WireError("file_too_large", `the broker refused ${what}: the file is larger than its limit`, 413);
  return new UnexpectedAnswer(`the broker answered HTTP ${res.status} to ${what}`);
}

/** What a person or a model reads for the usual reasons a local file cannot be read. */
const UNREADABLE: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  ENOTDIR: "a part of the path is not a directory",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the path is too long",
};

function counted(stream: ReadableStream<Uint8Array>, total: number, progress?: Progress): ReadableStream<Uint8Array> {
  if (!progress) return stream;
  let done = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        done += chunk.byteLength;
        progress(done, total);
        ctl.enqueue(chunk);
      },
    }),
  );
}

/**
 * Where `get_file` writes: a `saveTo` ending in `/` or naming an existing directory receives the file
 * under its sanitised name; anything else is the file's path.
 */
export function downloadTarget(saveTo: string, storedName: string): string {
  const abs = resolve(saveTo);
  if (saveTo.endsWith("/") || (existsSync(abs) && statSync(abs).isDirectory())) return join(abs, storedName);
  return abs;
}

/** The file routes of one broker, for MCP tools (session bearer token) and the CLI (upload token). */
export class FilesClient {
  constructor(
    /** a function for a session's client: after a failover its token is the new node's, and so is the URL */
    private readonly base: string | (() => string),
    /** a bearer token for the file routes, fetched per request (a session's changes on reconnect) */
    private readonly token: () => Promise<string> | string,
    /** the CA of a broker with a private certificate (`join --ca`, or CLAUDEMESH_CA) */
    private readonly caFile?: string,
  ) {}

  private get tls() {
    return tlsOptions(this.caFile);
  }

  private get brokerUrl(): string {
    return typeof this.base === "string" ? this.base : this.base();
  }

  private url(path: string): string {
    return this.brokerUrl.replace(/\/+$/, "") + path;
  }

  private async call<S extends z.ZodType>(method: string, path: string, schema: S): Promise<z.infer<S>> {
    const res = await fetch(this.url(path), {
      method,
      headers: { authorization: `Bearer ${await this.token()}` },
      signal: AbortSignal.timeout(30_000),
      ...this.tls,
    }).catch((err) => {
      throw new BrokerUnreachable(`cannot reach the broker at ${this.brokerUrl}: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (!res.ok) throw await failure(res, `${method} ${path.split("?")[0]}`);
    const parsed = parseWire(schema, await res.json().catch(() => null));
    if (!parsed.ok) throw new UnexpectedAnswer(`unexpected answer from the broker for ${method} ${path.split("?")[0]}`);
    return parsed.data;
  }

  /** Streams a local file to the broker: a shared file, or (with `to`) a message attachment. */
  async upload(path: string, opts: { name?: string; tags?: string[]; to?: string | string[]; progress?: Progress } = {}): Promise<FileInfo> {
    const abs = resolve(path);
    let size: number;
    try {
      const st = statSync(abs);
      if (!st.isFile()) throw new InvalidArgument(`${path} is not a regular file`);
      size = st.size;
    } catch (err) {
      if (err instanceof InvalidArgument) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new InvalidArgument(`cannot read ${path}: ${(code && UNREADABLE[code]) ?? code ?? String(err)}`);
    }
    const q = new URLSearchParams({ name: opts.name ?? basename(abs) });
    if (opts.tags?.length) q.set("tags", opts.tags.join(","));
    if (opts.to !== undefined) q.set("to", JSON.stringify(Array.isArray(opts.to) ? opts.to : [opts.to]));
    const file = Bun.file(abs);
    const res = await fetch(this.url(`/upload?${q}`), {
      method: "POST",
      headers: { authorization: `Bearer ${await this.token()}`, "content-type": "application/octet-stream", "content-length": String(size) },
      body: opts.progress ? counted(file.stream(), size, opts.progress) : file,
      ...this.tls,
    }).catch((err) => {
      throw new BrokerUnreachable(`upload to ${this.brokerUrl} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (!res.ok) throw await failure(res, "the upload");
    const parsed = parseWire(FileInfo, await res.json().catch(() => null));
    if (!parsed.ok) throw new UnexpectedAnswer("unexpected answer from the broker to the upload");
    return parsed.data;
  }

  list(q: { query?: string; from?: string } = {}): Promise<FileInfo[]> {
    const p = new URLSearchParams();
    if (q.query) p.set("query", q.query);
    if (q.from) p.set("from", q.from);
    return this.call("GET", `/files${p.size ? `?${p}` : ""}`, FileList).then((r) => r.files);
  }

  ticket(id: string): Promise<DownloadTicket> {
    return this.call("GET", `/files/${encodeURIComponent(id)}`, DownloadTicket);
  }

  status(id: string) {
    return this.call("GET", `/files/${encodeURIComponent(id)}/status`, FileStatus);
  }

  remove(id: string) {
    return this.call("DELETE", `/files/${encodeURIComponent(id)}`, FileDeleted);
  }

  /** Downloads into `saveTo` (see downloadTarget); an existing file is kept unless `overwrite`. */
  async download(id: string, saveTo: string, opts: { overwrite?: boolean; progress?: Progress } = {}): Promise<{ file: FileInfo; path: string }> {
    const t = await this.ticket(id);
    const dest = downloadTarget(saveTo, t.file.storedName);
    if (existsSync(dest) && !opts.overwrite) throw new InvalidArgument(`${dest} already exists; pass overwrite: true to replace it`);
    if (existsSync(dest) && statSync(dest).isDirectory()) throw new InvalidArgument(`${dest} is a directory`);
    const url = new URL(t.url, this.brokerUrl + "/");
    // a presigned URL points at the store, whose certificate the broker's CA does not vouch for
    const res = await fetch(url, url.origin === new URL(this.brokerUrl).origin ? this.tls : {}).catch((err) => {
      throw new BrokerUnreachable(`download failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (!res.ok || !res.body) throw await failure(res, "the download");
    mkdirSync(dirname(dest), { recursive: true });
    const part = `${dest}.${process.pid}.part`;
    try {
      let got = 0;
      const body = counted(res.body, t.file.size, (n, total) => {
        got = n;
        opts.progress?.(n, total);
      });
      await pipeline(Readable.fromWeb(body as unknown as NodeWebStream<Uint8Array>), createWriteStream(part));
      if (got !== t.file.size) throw new UnexpectedAnswer(`download of ${id} ended after ${got} of ${t.file.size} bytes`);
      renameSync(part, dest);
    } catch (err) {
      rmSync(part, { force: true });
      throw err;
    }
    return { file: t.file, path: dest };
  }
}

/**
 * A live session's token for the file routes: the bearer token from hello_ack while it is valid (downloads
 * are then recorded under this session), else an upload token from a member-signed request (the hello_ack
 * token expires after an hour; a session that stays connected longer keeps working).
 */
export function sessionTokenProvider(
  client: { ack: { token: string; tokenExpiresAt: number } | null; url?: string },
  mesh: Pick<MeshConfig, "brokerUrl" | "memberId" | "secretKey" | "caFile">,
): () => Promise<string> {
  let fallback: { token: string; expiresAt: number } | null = null;
  return async () => {
    const now = Date.now();
    const ack = client.ack;
    if (ack && ack.tokenExpiresAt > now + 30_000) return ack.token;
    if (!fallback || fallback.expiresAt <= now + 30_000)
      fallback = await brokerRequest(client.url ?? mesh.brokerUrl, "POST", "/files/token", FileToken, { auth: { kind: "member", mesh } });
    return fallback.token;
  };
}
