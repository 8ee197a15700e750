import { loadConfig } from "../client/config.ts";
import {
  checkBroker,
  checkClaude,
  checkHooksRegistration,
  checkMcpRegistration,
  checkMeshesJoined,
  checkMeshKey,
  checkPermissions,
  checkRootLaunch,
  type CheckResult,
} from "./checks.ts";
import { checkRoundTrip } from "./round-trip.ts";

/** Runs every check in order; each mesh gets a broker check and, once that passes, a live round trip. */
export async function runChecks(onResult: (r: CheckResult) => void = () => {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const add = (r: CheckResult) => {
    results.push(r);
    onResult(r);
    return r;
  };
  add(await checkClaude());
  const root = checkRootLaunch();
  if (root) add(root);
  add(checkMcpRegistration());
  add(checkHooksRegistration());
  checkPermissions().forEach(add);
  let meshes;
  try {
    meshes = loadConfig().meshes;
  } catch (e) {
    add({ name: "config", ok: false, detail: e instanceof Error ? e.message : String(e), hint: "fix or remove the config file, then `claudemesh join` again" });
    return results;
  }
  add(checkMeshesJoined(meshes));
  for (const mesh of meshes) {
    add(checkMeshKey(mesh));
    if (add(await checkBroker(mesh)).ok) add(await checkRoundTrip(mesh));
  }
  return results;
}

export function formatResult(r: CheckResult): string {
  return r.ok ? `ok    ${r.name}: ${r.detail}` : `FAIL  ${r.name}: ${r.detail}${r.hint ? ` → ${r.hint}` : ""}`;
}
