export interface FilesLimits {
  /** Largest file (`--max-file-size`). */
  maxFileBytes: number;
  /** Bytes of live files per mesh (`--mesh-storage-quota`). */
  meshQuotaBytes: number;
  /** Attachments are deleted this long after upload. */
  ephemeralTtlMs: number;
  /** Lifetime of a download URL. */
  urlTtlMs: number;
  /** Lifetime of the upload token a CLI gets with a member-signed request. */
  tokenTtlMs: number;
}

export const DEFAULT_FILES_LIMITS: FilesLimits = {
  maxFileBytes: 100 * 1024 * 1024,
  meshQuotaBytes: 10 * 1024 * 1024 * 1024,
  ephemeralTtlMs: 24 * 60 * 60_000,
  urlTtlMs: 5 * 60_000,
  tokenTtlMs: 15 * 60_000,
};
