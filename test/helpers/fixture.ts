import { afterAll, beforeAll } from "bun:test";

/**
 * `await using` for a describe block (or a whole file), whose resources outlive any one test body:
 * `setup` runs before the first test and puts what it starts on the stack (`stack.use(await
 * startTestBroker(…))`, `stack.defer(fn)`); after the last test the stack is disposed, newest first,
 * also when setup failed halfway. Inside a test body, plain `await using` does the same.
 */
export function suiteFixture(setup: (stack: AsyncDisposableStack) => Promise<void> | void, timeoutMs?: number): void {
  let stack: AsyncDisposableStack | undefined;
  beforeAll(async () => {
    stack = new AsyncDisposableStack();
    await setup(stack);
  }, timeoutMs);
  afterAll(async () => {
    await stack?.disposeAsync();
  });
}
