// Idempotent requests, after Stripe and the IETF Idempotency-Key draft: the first request with a key
// runs and its outcome (success or failure) is stored with a fingerprint of the request; a replay
// gets the identical stored response without running again; the same key with a different request
// is refused; a duplicate arriving while the first still runs is told to retry. Keys are scoped
// (per cart) and expire after 24 hours.
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { AppError } from "../error.ts";
import * as IdempotencyRepository from "./idempotency.repository.ts";

export const KEY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a running request holds its key before another may take over (its process died). */
export const LOCK_MS = 60 * 1000;
const KEY_PATTERN = /^[\x21-\x7e]{8,255}$/;

export interface StoredResponse {
  status: number;
  body: string;
}

export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A fingerprint of what was asked: the operation and its input, independent of key order. */
export function fingerprint(operation: string, input: unknown): string {
  return createHash("sha256").update(operation).update("\n").update(canonical(input)).digest("hex");
}

/**
 * Runs `execute` at most once per (scope, key). `shouldStore` decides which outcomes are final:
 * transient ones (the server failed, or asked the caller to retry) release the key so a retry runs.
 */
export async function run(input: {
  db: Kysely<Database>;
  scope: string;
  key: string;
  fingerprint: string;
  execute: () => Promise<StoredResponse>;
  shouldStore: (response: StoredResponse) => boolean;
  lockMs?: number;
  ttlMs?: number;
}): Promise<StoredResponse & { isReplay: boolean }> {
  const lockMs = input.lockMs ?? LOCK_MS;
  const ttlMs = input.ttlMs ?? KEY_TTL_MS;
  if (!isValidKey(input.key)) {
    throw new AppError("BAD_INPUT", "The Idempotency-Key header must be 8 to 255 visible ASCII characters (a UUID is ideal)");
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const claimedId = await IdempotencyRepository.claim(input.db, { scope: input.scope, key: input.key, fingerprint: input.fingerprint, lockMs, ttlMs });
    if (claimedId !== null) return { ...(await executeHolding(input, claimedId)), isReplay: false };
    const row = await IdempotencyRepository.find(input.db, input.scope, input.key);
    if (!row) continue; // released between our insert and read: try again
    if (row.is_expired) {
      await IdempotencyRepository.deleteById(input.db, row.id);
      continue;
    }
    if (row.fingerprint !== input.fingerprint) {
      throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used for a different request; use a new key for a new request", {
        key: input.key,
      });
    }
    if (row.status === "completed" && row.response_status !== null && row.response_body !== null) {
      return { status: row.response_status, body: row.response_body, isReplay: true };
    }
    if (row.is_lock_expired && (await IdempotencyRepository.takeOver(input.db, row.id, lockMs))) {
      return { ...(await executeHolding(input, row.id)), isReplay: false };
    }
    throw new AppError("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still being processed; retry in a moment with the same key", {
      key: input.key,
      retryAfterSeconds: 1,
    });
  }
  throw new AppError("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is being processed; retry in a moment with the same key", {
    key: input.key,
    retryAfterSeconds: 1,
  });
}

async function executeHolding(
  input: { db: Kysely<Database>; execute: () => Promise<StoredResponse>; shouldStore: (response: StoredResponse) => boolean },
  id: string,
): Promise<StoredResponse> {
  let response: StoredResponse;
  try {
    response = await input.execute();
  } catch (error) {
    await IdempotencyRepository.release(input.db, id);
    throw error;
  }
  if (input.shouldStore(response)) await IdempotencyRepository.complete(input.db, id, response);
  else await IdempotencyRepository.release(input.db, id);
  return response;
}

export { deleteExpired } from "./idempotency.repository.ts";
