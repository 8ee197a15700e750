// s3rver ships no types; the tests use this much of it.
declare module "s3rver" {
  export default class S3rver {
    constructor(opts: { port?: number; address?: string; silent?: boolean; directory?: string });
    run(): Promise<{ address: string; family: string; port: number }>;
    close(): Promise<void>;
  }
}
