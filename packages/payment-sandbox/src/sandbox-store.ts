// The payment sandbox's in-memory ledger: tokens, authorisations and idempotent responses.
import { randomBytes } from "node:crypto";
import type { CardBehaviour, CardBrand, DeclineCode } from "./test-cards.ts";
import { DECLINE_MESSAGES } from "./test-cards.ts";
import type { TokenizedCard } from "./card-rules.ts";

export const TOKEN_TTL_MS = 30 * 60 * 1000;
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export type AuthorizationStatus = "requires_action" | "authorized" | "failed" | "captured" | "voided";

const transitions: Record<AuthorizationStatus, { to: readonly AuthorizationStatus[] }> = {
  requires_action: { to: ["authorized", "failed", "voided"] },
  authorized: { to: ["captured", "voided"] },
  failed: { to: [] },
  captured: { to: [] },
  voided: { to: [] },
};

export interface TokenRecord {
  id: string;
  card: TokenizedCard;
  behaviour: CardBehaviour;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface AuthorizationRecord {
  id: string;
  status: AuthorizationStatus;
  amount: number;
  currency: string;
  reference: string;
  card: AuthorizedCard;
  createdAt: number;
  /** Why a 3-D Secure authorisation failed; null otherwise. */
  failureCode: string | null;
  capturedAmount: number;
  refundedAmount: number;
  captures: { id: string; amount: number; createdAt: number }[];
  refunds: { id: string; amount: number; createdAt: number }[];
}

/** What an authorisation (and a decline) tells the merchant about the card: never the number. */
export interface AuthorizedCard {
  brand: CardBrand;
  last4: string;
  fingerprint: string;
}

export interface StoredResponse {
  status: number;
  body: string;
}

interface IdempotencyRecord extends StoredResponse {
  scope: string;
  key: string;
  fingerprint: string;
  createdAt: number;
}

export interface SandboxStateSnapshot {
  tokens: TokenRecord[];
  authorizations: AuthorizationRecord[];
  idempotency: IdempotencyRecord[];
}

export type AuthorizeOutcome =
  | { kind: "authorized"; authorization: AuthorizationRecord; isSlow: boolean }
  | { kind: "requires_action"; authorization: AuthorizationRecord }
  | { kind: "declined"; code: DeclineCode; message: string; card: AuthorizedCard }
  | { kind: "token_invalid"; message: string };

export type ChallengeResult = "authenticated" | "failed";

export type ChallengeOutcome =
  | { kind: "completed"; authorization: AuthorizationRecord }
  /** The challenge was already answered (or the authorisation moved on); nothing changed. */
  | { kind: "already_completed"; authorization: AuthorizationRecord }
  | { kind: "not_found" };

export type CaptureOutcome =
  | { kind: "captured"; capture: { id: string; amount: number }; authorization: AuthorizationRecord }
  | { kind: "not_found" }
  | { kind: "illegal_state"; status: AuthorizationStatus }
  | { kind: "amount_too_large"; maximum: number };

export type VoidOutcome = { kind: "voided"; authorization: AuthorizationRecord } | { kind: "not_found" } | { kind: "illegal_state"; status: AuthorizationStatus };

export type RefundOutcome =
  | { kind: "refunded"; refund: { id: string; amount: number }; authorization: AuthorizationRecord }
  | { kind: "not_found" }
  | { kind: "not_captured"; status: AuthorizationStatus }
  | { kind: "amount_too_large"; maximum: number };

export function createId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("hex")}`;
}

function canTransition(from: AuthorizationStatus, to: AuthorizationStatus): boolean {
  return transitions[from].to.includes(to);
}

/** Deletes expired entries from the front of an insertion-ordered map; creation times only grow. */
function pruneOldest<T>(records: Map<string, T>, isExpired: (record: T) => boolean): void {
  for (const [key, record] of records) {
    if (!isExpired(record)) return;
    records.delete(key);
  }
}

export class SandboxStore {
  readonly #tokens = new Map<string, TokenRecord>();
  readonly #authorizations = new Map<string, AuthorizationRecord>();
  /** reference → id of the latest authorisation made for it. */
  readonly #latestByReference = new Map<string, string>();
  readonly #idempotency = new Map<string, IdempotencyRecord>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  now(): number {
    return this.#now();
  }

  createToken(card: TokenizedCard, behaviour: CardBehaviour): TokenRecord {
    this.#prune();
    const createdAt = this.#now();
    const token: TokenRecord = {
      id: createId("tok"),
      card: { ...card },
      behaviour,
      createdAt,
      expiresAt: createdAt + TOKEN_TTL_MS,
      usedAt: null,
    };
    this.#tokens.set(token.id, token);
    return token;
  }

  /** A token is spent by the first authorisation attempt that reaches the card, approved or not. */
  authorize(input: { token: string; amount: number; currency: string; reference: string }): AuthorizeOutcome {
    this.#prune();
    const now = this.#now();
    const token = this.#tokens.get(input.token);
    if (!token || token.expiresAt <= now) {
      return { kind: "token_invalid", message: `No such token: '${input.token}', or it has expired.` };
    }
    if (token.usedAt !== null) {
      return { kind: "token_invalid", message: `The token '${input.token}' has already been used.` };
    }
    token.usedAt = now;
    const card = { brand: token.card.brand, last4: token.card.last4, fingerprint: token.card.fingerprint };
    if (token.behaviour.outcome === "decline") {
      const { code } = token.behaviour;
      return { kind: "declined", code, message: DECLINE_MESSAGES[code], card };
    }
    const isChallenged = token.behaviour.outcome === "three_d_secure";
    const authorization: AuthorizationRecord = {
      id: createId("auth"),
      status: isChallenged ? "requires_action" : "authorized",
      amount: input.amount,
      currency: input.currency,
      reference: input.reference,
      card,
      createdAt: now,
      failureCode: null,
      capturedAmount: 0,
      refundedAmount: 0,
      captures: [],
      refunds: [],
    };
    this.#authorizations.set(authorization.id, authorization);
    this.#latestByReference.set(authorization.reference, authorization.id);
    if (isChallenged) return { kind: "requires_action", authorization };
    return { kind: "authorized", authorization, isSlow: token.behaviour.outcome === "approve_slowly" };
  }

  /** A token as the merchant's server may see it (card summary and fingerprint), live or already used; expired ones are gone. */
  getToken(id: string): TokenRecord | undefined {
    this.#prune();
    const token = this.#tokens.get(id);
    return token && token.expiresAt > this.#now() ? token : undefined;
  }

  getAuthorization(id: string): AuthorizationRecord | undefined {
    return this.#authorizations.get(id);
  }

  findLatestByReference(reference: string): AuthorizationRecord | undefined {
    const id = this.#latestByReference.get(reference);
    return id === undefined ? undefined : this.#authorizations.get(id);
  }

  /** The shopper's answer to a 3-D Secure challenge; only the first answer counts. */
  completeChallenge(id: string, result: ChallengeResult): ChallengeOutcome {
    const authorization = this.#authorizations.get(id);
    if (!authorization) return { kind: "not_found" };
    if (authorization.status !== "requires_action") return { kind: "already_completed", authorization };
    if (result === "authenticated") {
      authorization.status = "authorized";
    } else {
      authorization.status = "failed";
      authorization.failureCode = "authentication_failed";
    }
    return { kind: "completed", authorization };
  }

  capture(id: string, amount: number | undefined): CaptureOutcome {
    const authorization = this.#authorizations.get(id);
    if (!authorization) return { kind: "not_found" };
    if (!canTransition(authorization.status, "captured")) {
      return { kind: "illegal_state", status: authorization.status };
    }
    const captureAmount = amount ?? authorization.amount;
    if (captureAmount > authorization.amount) return { kind: "amount_too_large", maximum: authorization.amount };
    const capture = { id: createId("cap"), amount: captureAmount, createdAt: this.#now() };
    authorization.status = "captured";
    authorization.capturedAmount = captureAmount;
    authorization.captures.push(capture);
    return { kind: "captured", capture: { id: capture.id, amount: capture.amount }, authorization };
  }

  void(id: string): VoidOutcome {
    const authorization = this.#authorizations.get(id);
    if (!authorization) return { kind: "not_found" };
    if (!canTransition(authorization.status, "voided")) {
      return { kind: "illegal_state", status: authorization.status };
    }
    authorization.status = "voided";
    return { kind: "voided", authorization };
  }

  refund(id: string, amount: number): RefundOutcome {
    const authorization = this.#authorizations.get(id);
    if (!authorization) return { kind: "not_found" };
    if (authorization.status !== "captured") return { kind: "not_captured", status: authorization.status };
    const refundable = authorization.capturedAmount - authorization.refundedAmount;
    if (amount > refundable) return { kind: "amount_too_large", maximum: refundable };
    const refund = { id: createId("re"), amount, createdAt: this.#now() };
    authorization.refundedAmount += amount;
    authorization.refunds.push(refund);
    return { kind: "refunded", refund: { id: refund.id, amount }, authorization };
  }

  findIdempotentResponse(scope: string, key: string): (StoredResponse & { fingerprint: string }) | undefined {
    this.#prune();
    return this.#idempotency.get(idempotencyMapKey(scope, key));
  }

  rememberIdempotentResponse(scope: string, key: string, fingerprint: string, response: StoredResponse): void {
    this.#idempotency.set(idempotencyMapKey(scope, key), {
      scope,
      key,
      fingerprint,
      status: response.status,
      body: response.body,
      createdAt: this.#now(),
    });
  }

  snapshot(): SandboxStateSnapshot {
    return structuredClone({
      tokens: [...this.#tokens.values()],
      authorizations: [...this.#authorizations.values()],
      idempotency: [...this.#idempotency.values()],
    });
  }

  #prune(): void {
    const now = this.#now();
    pruneOldest(this.#tokens, (token) => token.expiresAt <= now);
    pruneOldest(this.#idempotency, (record) => record.createdAt + IDEMPOTENCY_TTL_MS <= now);
  }
}

function idempotencyMapKey(scope: string, key: string): string {
  return `${scope}\u0000${key}`;
}
