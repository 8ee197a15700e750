import { z } from "zod";
import type { MeshConfig } from "../client/config.ts";
import { findMesh } from "../client/config.ts";
import { type MeshProbe, probeMesh } from "../client/probe.ts";
import { DisplayName, type GroupMembership, GroupRole, parseGroupSpec } from "../protocol/common.ts";
import { InvalidArgument } from "../util/errors.ts";
import { askConfirm, askSelect, askText } from "./prompts.ts";

export interface LaunchFlags {
  name?: string;
  role?: string;
  groups?: string;
  mesh?: string;
  join?: string;
  /** `--broker`: pin the session to this broker URL (checked) */
  broker?: string;
  quiet: boolean;
  yes: boolean;
}

export interface LaunchPlan {
  mesh: MeshConfig;
  displayName: string;
  role: string | null;
  groups: GroupMembership[];
}

/** The spec's confirmation text, wrapped as the spec draws it. */
export const AUTONOMOUS_NOTICE = [
  "Autonomous mode",
  "Claude will send and receive peer messages without",
  "asking you first. Peers exchange text only — no file",
  "access, no tool calls, no code execution.",
  "Claude Code itself runs with permission prompts",
  "skipped (--dangerously-skip-permissions): it uses",
  "its tools without asking you.",
].join("\n");

const PROBE_TIMEOUT_MS = 2500;

const firstIssue = (e: unknown) => (e instanceof z.ZodError ? (e.issues[0]?.message ?? "invalid") : e instanceof Error ? e.message : String(e));

export function checkName(v: string): string | undefined {
  const r = DisplayName.safeParse(v);
  return r.success ? undefined : v.trim() === "" ? "a name is required" : firstIssue(r.error);
}

export function checkRole(v: string): string | undefined {
  if (v.trim() === "") return undefined;
  const r = GroupRole.safeParse(v);
  return r.success ? undefined : firstIssue(r.error);
}

export function checkGroups(v: string): string | undefined {
  try {
    parseGroupSpec(v);
    return undefined;
  } catch (e) {
    return `${firstIssue(e)} (e.g. "frontend:lead, reviewers")`;
  }
}

/** `[{frontend, lead}, {reviewers, null}]` → `"frontend:lead,reviewers"`, the form session.json stores. */
export const groupSpec = (gs: GroupMembership[]) => gs.map((g) => (g.role ? `${g.name}:${g.role}` : g.name)).join(",");

function flagError(flag: string, message: string | undefined): void {
  if (message) throw new InvalidArgument(`--${flag}: ${message}`);
}

export function describeProbe(p: MeshProbe): string {
  if (p.authenticated) return `${p.peersOnline ?? 0} peer${p.peersOnline === 1 ? "" : "s"} online`;
  return p.reachable ? `refused: ${p.error}` : "broker unreachable";
}

export interface WizardEnv {
  meshes: MeshConfig[];
  /** a mesh just joined with --join: the obvious choice */
  joined?: MeshConfig;
  interactive: boolean;
  print(line: string): void;
}

/**
 * Asks for whatever the flags left open, in the spec's order: name, mesh, role, groups, then the
 * autonomous-mode confirmation. `-y` never asks anything. Returns null when the user declines.
 * Throws PromptCancelled on Ctrl-C, and a InvalidArgument when a value is missing and there is no terminal to ask.
 */
export async function runWizard(flags: LaunchFlags, env: WizardEnv): Promise<LaunchPlan | null> {
  flagError("name", flags.name !== undefined ? checkName(flags.name) : undefined);
  flagError("role", flags.role !== undefined ? checkRole(flags.role) : undefined);
  flagError("groups", flags.groups !== undefined ? checkGroups(flags.groups) : undefined);
  const meshChoice = flags.mesh ?? env.joined?.slug;
  // Resolved before any question, so an unknown --mesh or an empty config fails at once.
  const fixedMesh = meshChoice !== undefined || env.meshes.length <= 1 ? findMesh({ version: 1, meshes: env.meshes }, meshChoice) : null;
  const askable = env.interactive && !flags.yes;
  const missing: string[] = [];
  if (flags.name === undefined && !flags.yes) missing.push("--name");
  if (meshChoice === undefined && env.meshes.length > 1) missing.push("--mesh");
  if (!flags.yes) missing.push("-y (to accept autonomous mode)");
  if (!env.interactive && missing.length > 0) {
    throw new InvalidArgument(`stdin is not a terminal, so nothing can be asked: pass ${missing.join(", ")}`);
  }
  if (flags.yes && meshChoice === undefined && env.meshes.length > 1) {
    throw new InvalidArgument(`you are in several meshes; pick one with --mesh (${env.meshes.map((m) => m.slug).join(", ")})`);
  }

  let name = flags.name?.trim();
  // The member's own name is the answer Enter gives, when it is one name whichever mesh is picked.
  const memberNames = new Set((fixedMesh ? [fixedMesh] : env.meshes).map((m) => m.displayName));
  const defaultName = memberNames.size === 1 ? [...memberNames][0] : undefined;
  if (name === undefined && askable) name = await askText({ label: "Name", defaultValue: defaultName, validate: (v) => checkName(v || (defaultName ?? "")) });

  let mesh: MeshConfig;
  if (fixedMesh) {
    mesh = fixedMesh;
    if (!flags.quiet) env.print(`Mesh: ${mesh.slug} (${describeProbe(await probeMesh(mesh, PROBE_TIMEOUT_MS))})`);
  } else {
    const probes = await Promise.all(env.meshes.map((m) => probeMesh(m, PROBE_TIMEOUT_MS)));
    mesh = await askSelect(
      "Mesh",
      env.meshes.map((m, i) => ({ value: m, label: `${m.slug} (${describeProbe(probes[i] as MeshProbe)})` })),
    );
  }
  // -y without --name: the member's own display name, so scripted launches never stop to ask.
  name ??= mesh.displayName;

  let role = flags.role?.trim();
  if (role === undefined && askable) role = await askText({ label: "Role (optional)", placeholder: "dev, pm, reviewer…", validate: checkRole });
  let groups = flags.groups;
  if (groups === undefined && askable) groups = await askText({ label: "Groups (optional)", placeholder: "frontend:lead, reviewers", validate: checkGroups });

  if (!flags.yes) {
    env.print("");
    env.print(AUTONOMOUS_NOTICE);
    env.print("");
    if (!(await askConfirm("Continue?"))) return null;
  }
  return { mesh, displayName: name, role: role ? role : null, groups: parseGroupSpec(groups ?? "") };
}
