// Waiting in tests: poll a condition until it holds, or fail saying what never happened. The limit only bounds how
// long a failing test hangs; no test asserts how long anything took.
import { setTimeout as sleep } from "node:timers/promises";

export { sleep };

/**
 * Calls `check` every `intervalMs` until it returns something truthy, and returns that. A `check` that throws fails
 * the wait at once (e.g. a child process that exited). After `timeoutMs` it fails with "timed out waiting for <what>"
 * (`what` may be a function, to describe the state at that moment).
 */
export async function waitUntil<T>(
  what: string | (() => string),
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()} (${timeoutMs} ms)`);
    await sleep(intervalMs);
  }
}

/** Waits until `url` answers 2xx (connection refused and errors count as not yet); `detail` is added to a failure. */
export async function waitForOk(url: string, timeoutMs = 30_000, detail: () => string = () => ""): Promise<void> {
  try {
    await waitUntil(
      `${url} to answer 2xx`,
      () =>
        fetch(url).then(
          (response) => response.ok,
          () => false,
        ),
      timeoutMs,
      100,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${detail()}`);
  }
}
