import { meshesMigration } from "../meshes/schema.ts";
import { memoryMigration } from "../memory/schema.ts";
import { messagingMigration } from "../messaging/schema.ts";
import { stateMigration } from "../state/schema.ts";
import type { Migration } from "./migration.ts";

/** Every feature's schema steps, in version order. */
export const MIGRATIONS: Migration[] = [meshesMigration, messagingMigration, stateMigration, memoryMigration];
