/**
 * Polls until `check` returns a value (not undefined), or fails with `what` at the deadline. For state that
 * nothing announces (a file appearing, a terminal redrawing), so tests wait for the event, not for time.
 */
export async function waitUntil<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

/** A promise the test settles by hand: a scripted model "thinks" until the test has seen what it waits for. */
export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
