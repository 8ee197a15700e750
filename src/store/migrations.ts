import { meshesMigration } from "../meshes/schema.ts";
import { messagingMigration } from "../messaging/schema.ts";
import type { Migration } from "./migration.ts";

/** Every feature's schema steps, in version order. */
export const MIGRATIONS: Migration[] = [meshesMigration, messagingMigration];
