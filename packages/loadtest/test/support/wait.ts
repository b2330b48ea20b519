// Waiting in tests: for a condition polled until a deadline, or for a child process to exit.
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Calls `check` every `intervalMs` until it returns something other than undefined, null or false, and returns that.
 * A check that throws ends the wait with its error; after `timeoutMs` the wait fails with "`what` within … ms", and
 * `details()` when given.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs, intervalMs = 200, details }: { timeoutMs: number; intervalMs?: number; details?: () => string },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    await sleep(intervalMs);
  }
  throw new Error(`${what} within ${timeoutMs} ms${details ? `:\n${details()}` : ""}`);
}

/** The child's exit code, once it has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
