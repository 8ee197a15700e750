import { pidAlive } from "../../src/util/pid.ts";

/** A running process as `ps` shows it. */
export interface Proc {
  pid: number;
  ppid: number;
  args: string;
}

/** Every process below `pid` (children, grandchildren, …), from one `ps` snapshot. */
export function descendants(pid: number): Proc[] {
  // pid 0 (no such program) would be the kernel's, whose descendants are every process.
  if (pid <= 0) return [];
  const out = Bun.spawnSync(["ps", "-A", "-o", "pid=,ppid=,args="], { stdout: "pipe" }).stdout.toString();
  const all: Proc[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m) all.push({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] as string });
  }
  const found: Proc[] = [];
  const parents = new Set([pid]);
  // ps lists in pid order, and a reused pid can put a child before its parent: repeat until nothing new.
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

/** Waits until every one of `procs` has exited: proof that stopping a program left nothing of it running. */
export async function waitAllGone(procs: Proc[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = procs.filter((p) => pidAlive(p.pid));
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`still running ${timeoutMs} ms after the stop: ${left.map((p) => `${p.pid} ${p.args}`).join("; ")}`);
    await Bun.sleep(50);
  }
}
