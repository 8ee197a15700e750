/** Whether a process exists. Dependency-free: `claudemesh hook` loads it. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
