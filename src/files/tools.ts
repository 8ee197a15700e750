import { z } from "zod";
import { defineTool, type McpTool, type ToolContext } from "../client/tool.ts";
import { StoredId } from "../protocol/common.ts";
import { type FileInfo, LocalPath } from "./api.ts";
import type { FilesClient } from "./client.ts";
import { humanSize } from "../util/size.ts";

/** What the file tools need beyond the connection: the broker's file routes under this session's token. */
export interface FilesContext extends ToolContext {
  files: FilesClient;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const fileData = (f: FileInfo) => ({
  id: f.id,
  name: f.name,
  size: f.size,
  mimeType: f.mimeType,
  tags: f.tags,
  uploadedBy: f.uploadedBy,
  uploadedAt: iso(f.uploadedAt),
  kind: f.persistent ? "shared" : "attachment",
  expiresAt: iso(f.expiresAt),
});

function fileLine(f: FileInfo): string {
  const parts = [f.id, f.name, humanSize(f.size), f.tags.length ? `tags ${f.tags.join(", ")}` : null, `from ${f.uploadedBy}`, iso(f.uploadedAt)];
  if (!f.persistent) parts.push(`attachment, expires ${iso(f.expiresAt)}`);
  return `- ${parts.filter(Boolean).join(" · ")}`;
}

// an id no row can hold is refused here: a lone surrogate could not even go into the URL
const fileId = StoredId.describe("The file id (f_…), from share_file, list_files or a 📎 line");

const shareFile = defineTool({
  name: "share_file",
  description:
    "Share a local file with the whole mesh, persistently: every current and future member can find it with list_files and download it with get_file. " +
    "For a file meant only for the recipients of one message (a screenshot, a log), attach it to send_message instead. Files are stored on the broker, not end-to-end encrypted.",
  input: {
    path: LocalPath.describe("Local path of the file to share"),
    tags: z.array(z.string().min(1).max(64)).max(16).optional().describe('Tags to find it by, e.g. ["api", "auth"]'),
    name: z.string().min(1).max(255).optional().describe('Display name (default: the file name), e.g. "Auth v2 Contract"'),
  },
  async run(ctx: FilesContext, args) {
    const f = await ctx.files.upload(args.path, { ...(args.tags ? { tags: args.tags } : {}), ...(args.name ? { name: args.name } : {}) });
    return { text: `Shared ${f.name} (${humanSize(f.size)}) with the mesh as ${f.id}.`, data: fileData(f) };
  },
});

const getFile = defineTool({
  name: "get_file",
  description:
    "Download a shared file or a message attachment sent to you. save_to ending in / (or naming an existing directory) receives the file under its own name; anything else is the file path. An existing file is kept unless overwrite is true.",
  input: {
    id: fileId,
    save_to: LocalPath.describe('Where to save it: "/tmp/" or "/tmp/spec.yaml"'),
    overwrite: z.boolean().optional().describe("Replace an existing file at that path (default false)"),
  },
  async run(ctx: FilesContext, args) {
    const { file, path } = await ctx.files.download(args.id, args.save_to, { overwrite: args.overwrite ?? false });
    return { text: `Saved ${file.name} (${humanSize(file.size)}) to ${path}.`, data: { ...fileData(file), path } };
  },
});

const listFiles = defineTool({
  name: "list_files",
  description: "List the files you can read in this mesh, newest first: shared files and attachments sent to you or by you (name, tags, size, uploader, date).",
  input: {
    query: z.string().max(256).optional().describe("Matches names and tags"),
    from: z.string().max(128).optional().describe("Only files uploaded by this display name or member name"),
  },
  async run(ctx: FilesContext, args) {
    const files = await ctx.files.list({ ...(args.query ? { query: args.query } : {}), ...(args.from ? { from: args.from } : {}) });
    const n = files.length;
    const text = n === 0 ? "No files match." : `${n} file${n === 1 ? "" : "s"}:\n${files.map(fileLine).join("\n")}`;
    return { text, data: { files: files.map(fileData) } };
  },
});

const fileStatus = defineTool({
  name: "file_status",
  description: "Who downloaded a file, and when.",
  input: { id: fileId },
  async run(ctx: FilesContext, args) {
    const s = await ctx.files.status(args.id);
    const accesses = s.accesses.map((a) => ({ peer: a.peerName, read: true, readAt: iso(a.accessedAt) }));
    const head = `${s.file.name} (${s.file.id})`;
    const text =
      accesses.length === 0
        ? `${head}: nobody has downloaded it yet.`
        : `${head}, downloaded by:\n${accesses.map((a) => `- ${a.peer} at ${a.readAt}`).join("\n")}`;
    return { text, data: { file: fileData(s.file), accesses } };
  },
});

const deleteFile = defineTool({
  name: "delete_file",
  description: "Delete a file for everyone (its download links stop working). Only whoever uploaded it, or a mesh owner/admin, may.",
  input: { id: fileId },
  async run(ctx: FilesContext, args) {
    await ctx.files.remove(args.id);
    return { text: `Deleted ${args.id}; it is gone for everyone.`, data: { id: args.id, deleted: true } };
  },
});

export const fileTools: McpTool<any, FilesContext>[] = [shareFile, getFile, listFiles, fileStatus, deleteFile];
