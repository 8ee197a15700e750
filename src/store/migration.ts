export type Dialect = "sqlite" | "postgres";

/** One versioned schema step, written once per dialect. Versions are global and never reused. */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}
