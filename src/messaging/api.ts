import { z } from "zod";

const Amount = z.object({ messages: z.number(), bytes: z.number() });

/** GET /meshes/:meshId/usage: what a mesh keeps on the broker against its quotas. */
export const UsageResponse = z.object({
  meshId: z.string(),
  slug: z.string(),
  /** messages whose ciphertext is still stored, and its bytes */
  stored: Amount,
  limits: z.object({ perMember: Amount, perMesh: Amount }),
  members: z.array(z.object({ memberId: z.string(), displayName: z.string(), stored: Amount, online: z.number() })),
});
export type UsageResponse = z.infer<typeof UsageResponse>;
