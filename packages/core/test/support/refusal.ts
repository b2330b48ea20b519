// What a domain call refused with: its typed error's code, message and details (fails the test if it did not refuse,
// or threw anything but an AppError).
import { expect } from "vitest";
import { AppError } from "../../src/index.ts";

export async function refusal(promise: Promise<unknown>): Promise<{ code: AppError["code"]; message: string; details: Record<string, unknown> }> {
  const error = await promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  const { code, message, details } = error as AppError;
  return { code, message, details: (details ?? {}) as Record<string, unknown> };
}
