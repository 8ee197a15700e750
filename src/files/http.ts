import type { z } from "zod";
import type { FeatureHost, Routes } from "../broker/host.ts";
import { bearer, json, meshAdminRequest, readText, reply, sessionGrant } from "../broker/http.ts";
import { describeIssues } from "../protocol/codec.ts";
import { WireError } from "../protocol/wire-error.ts";
import { FilesUsageResponse, ListQuery, UploadQuery } from "./api.ts";
import type { Caller, FilesService } from "./service.ts";
import { issueToken, verifyDownload, verifyToken } from "./signing.ts";

type Req = Request & { params: Record<string, string> };

function query<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!parsed.success) throw new WireError("invalid_argument", `invalid query: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The session bearer token from hello_ack, or an upload token from POST /files/token; both scope to one mesh. */
async function caller(req: Request, host: FeatureHost, files: FilesService): Promise<Caller> {
  const grant = sessionGrant(req, host.auth);
  if (grant) {
    const peer = host.peers.session(grant.sessionPubkey) ?? null;
    return { meshId: grant.meshId, memberId: grant.memberId, name: peer?.displayName ?? grant.memberId, sessionPubkey: grant.sessionPubkey, peer };
  }
  const token = bearer(req);
  const t = token ? verifyToken(files.signer, token, files.now()) : null;
  if (t) {
    const member = (await host.auth.members(t.meshId)).find((m) => m.id === t.memberId);
    if (member && member.meshId === t.meshId && member.revokedAt === null)
      return { meshId: t.meshId, memberId: member.id, name: member.displayName, sessionPubkey: null, peer: null };
  }
  throw new WireError("unauthorized", "file routes need a valid bearer token: the session's from hello_ack, or one from POST /files/token", 401);
}

const contentLength = (req: Request): number | null => {
  const h = req.headers.get("content-length");
  return h === null || !/^\d+$/.test(h) ? null : Number(h);
};

const disposition = (name: string) => `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;

export function fileRoutes(host: FeatureHost, files: FilesService): Routes {
  const small = Math.min(64 * 1024, host.limits.maxFrameBytes);
  const who = (req: Request) => caller(req, host, files);
  return {
    "/upload": {
      POST: async (req: Request) => {
        const q = query(req, UploadQuery);
        const info = await files.upload(await who(req), { ...q, contentLength: contentLength(req), body: req.body });
        return json(info, 201);
      },
    },
    "/files/token": {
      POST: async (req: Request) => {
        const text = await readText(req, small);
        const member = await host.auth.signedMember(req, text);
        if (!member) throw new WireError("unauthorized", "sign the request with your member key", 401);
        const expiresAt = files.now() + files.limits.tokenTtlMs;
        return json({ token: issueToken(files.signer, member.meshId, member.id, expiresAt), expiresAt });
      },
    },
    "/files": {
      GET: async (req: Request) => {
        return json({ files: await files.list(await who(req), query(req, ListQuery)) });
      },
    },
    "/files/:id": {
      GET: async (req: Req) => json(await files.ticket(await who(req), req.params.id ?? "")),
      DELETE: async (req: Req) => {
        const id = req.params.id ?? "";
        await files.remove(await who(req), id);
        return json({ id, deleted: true });
      },
    },
    "/files/:id/status": {
      GET: async (req: Req) => json(await files.status(await who(req), req.params.id ?? "")),
    },
    // Beside the message usage of /meshes/:meshId/usage, for the same people: the operator, owners, admins.
    "/meshes/:meshId/files/usage": {
      GET: async (req: Req) => {
        const meshId = await meshAdminRequest(host.auth, req, "see its usage");
        if (!(await host.auth.mesh(meshId))) throw new WireError("unknown_mesh", "no such mesh", 404);
        const members = await files.repo.usageByMember(meshId);
        const stored = members.reduce((t, m) => ({ files: t.files + m.files, bytes: t.bytes + m.bytes }), { files: 0, bytes: 0 });
        return reply(FilesUsageResponse, {
          meshId,
          stored,
          limits: { meshBytes: files.limits.meshQuotaBytes, fileBytes: files.limits.maxFileBytes },
          members,
        });
      },
    },
    // The broker-signed download URL: the signature is the credential, so a plain fetch (or a browser) works.
    "/files/:id/content": {
      GET: async (req: Req) => {
        const id = req.params.id ?? "";
        const v = verifyDownload(files.signer, id, new URL(req.url).searchParams);
        if (!v) throw new WireError("bad_download_url", "this download URL is not valid (forged or altered); ask for a new one with get_file", 403);
        if (v.exp <= files.now()) throw new WireError("bad_download_url", "this download URL has expired; ask for a new one with get_file", 403);
        const f = await files.readable(v.d, id);
        const body = await files.content(f, v.d);
        return new Response(body, {
          headers: { "content-type": f.mimeType, "content-length": String(f.size), "content-disposition": disposition(f.name), "cache-control": "no-store" },
        });
      },
    },
  };
}
