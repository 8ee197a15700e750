import pkg from "../package.json" with { type: "json" };

// Set by scripts/compile.ts (`--define`); absent when running from source.
declare const CLAUDEMESH_COMMIT: string | undefined;

export const VERSION: string = pkg.version;
/** The git commit the binary was built from, or "source" when running from a checkout. */
export const COMMIT: string = typeof CLAUDEMESH_COMMIT === "string" ? CLAUDEMESH_COMMIT : "source";
