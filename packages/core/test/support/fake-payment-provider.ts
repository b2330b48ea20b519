// A payment provider in memory, for core's tests: it keeps its authorisations keyed by idempotency key (a repeated
// key replays the first answer, as a real processor does), answers what each test scripts, records every call, and
// answers findAuthorization from what it holds.
import { randomUUID } from "node:crypto";
import type { Currency } from "../../src/money.ts";
import {
  PaymentProviderUnavailableError,
  PaymentTokenRejectedError,
  type AuthorizationState,
  type AuthorizeResult,
  type CardSummary,
  type PaymentProvider,
} from "../../src/payment/payment-provider.ts";

type AuthorizeInput = Parameters<PaymentProvider["authorize"]>[0];
export type FakeMethod = "authorize" | "capture" | "void" | "refund" | "findAuthorization" | "retrieveToken";

/**
 * How the fake answers one authorise call. `amount`/`currency` make it say it authorised something other than it was
 * asked for. `answerLost` makes the provider hold the authorisation but the caller hear only that it is unreachable
 * (a timeout after the provider acted); a retry with the same key then gets the authorisation.
 */
export type AuthorizeAnswer =
  | { status: "authorized"; amount?: number; currency?: Currency; answerLost?: boolean }
  | { status: "requires_action"; amount?: number; currency?: Currency; answerLost?: boolean }
  | { status: "declined"; code?: string; message?: string; answerLost?: boolean }
  | { status: "unavailable" }
  | { status: "token_rejected" };

export interface FakeCall {
  method: FakeMethod;
  input: Record<string, unknown>;
}

interface Held {
  key: string;
  reference: string;
  /** What the first call with this key answered, replayed to every later call with it. */
  answer: AuthorizeResult;
  state: AuthorizationState;
  /** Capture, void and refund results by their idempotency keys. */
  replies: Map<string, unknown>;
}

export interface FakePaymentProvider extends PaymentProvider {
  /** Every call, in order, with its input. */
  readonly calls: FakeCall[];
  callsTo(method: FakeMethod): FakeCall[];
  /** Queues answers for the next authorise calls with new keys (replays of a known key do not take one). */
  willAuthorize(...answers: AuthorizeAnswer[]): void;
  /** The answer to an authorise call when nothing is queued (`{ status: "authorized" }` unless changed). */
  defaultAnswer: AuthorizeAnswer;
  /** Makes the next `times` calls to `method` throw PaymentProviderUnavailableError. */
  failNext(method: Exclude<FakeMethod, "authorize">, times?: number): void;
  /** The provider is down: every call throws PaymentProviderUnavailableError until set back to false. */
  isDown: boolean;
  /** What the provider holds for an order number, or null. */
  authorizationOf(reference: string): AuthorizationState | null;
  /** Changes what the provider holds for an order number (the shopper finished 3-D Secure, it captured on its own…). */
  setState(reference: string, change: Partial<Omit<AuthorizationState, "authorizationId">>): void;
  /** Makes the provider hold an authorisation nobody heard of, for an order number (a crash before recording). */
  holdAuthorization(input: { reference: string; amount: number; currency: Currency; status?: AuthorizationState["status"] }): AuthorizationState;
}

export const FAKE_CARD: CardSummary = { brand: "visa", last4: "4242", fingerprint: "fp_fake_4242" };

function unavailable(method: string): PaymentProviderUnavailableError {
  return new PaymentProviderUnavailableError(`fake provider: ${method} could not reach the provider`);
}

export function createFakePaymentProvider(options: { name?: string; timeoutMs?: number; card?: CardSummary } = {}): FakePaymentProvider {
  const card = options.card ?? FAKE_CARD;
  const byKey = new Map<string, Held>();
  const queued: AuthorizeAnswer[] = [];
  const failures = new Map<FakeMethod, number>();
  const calls: FakeCall[] = [];

  function heldByReference(reference: string): Held | undefined {
    return [...byKey.values()].find((held) => held.reference === reference);
  }
  function heldById(authorizationId: string): Held {
    const held = [...byKey.values()].find((entry) => entry.state.authorizationId === authorizationId);
    if (!held) throw new Error(`fake provider: no authorisation ${authorizationId}`);
    return held;
  }
  function enter(method: FakeMethod, input: object): void {
    calls.push({ method, input: { ...input } });
    if (fake.isDown) throw unavailable(method);
    const left = failures.get(method) ?? 0;
    if (left > 0) {
      failures.set(method, left - 1);
      throw unavailable(method);
    }
  }
  function hold(input: { key: string; reference: string; amount: number; currency: Currency; status: AuthorizationState["status"]; answer?: AuthorizeResult }): Held {
    const authorizationId = `auth_${randomUUID()}`;
    const state: AuthorizationState = {
      authorizationId,
      status: input.status,
      amount: input.amount,
      currency: input.currency,
      capturedAmount: 0,
      refundedAmount: 0,
      card,
      failureCode: null,
    };
    const answer: AuthorizeResult = input.answer ?? { status: "authorized", authorizationId, amount: input.amount, currency: input.currency, card };
    const held: Held = { key: input.key, reference: input.reference, answer, state, replies: new Map() };
    byKey.set(input.key, held);
    return held;
  }
  function replay<T>(held: Held, key: string, make: () => T): T {
    if (held.replies.has(key)) return held.replies.get(key) as T;
    const reply = make();
    held.replies.set(key, reply);
    return reply;
  }

  const fake: FakePaymentProvider = {
    name: options.name ?? "fake",
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    calls,
    callsTo: (method) => calls.filter((call) => call.method === method),
    defaultAnswer: { status: "authorized" },
    isDown: false,
    willAuthorize: (...answers) => void queued.push(...answers),
    failNext(method, times = 1) {
      failures.set(method, (failures.get(method) ?? 0) + times);
    },
    authorizationOf: (reference) => {
      const held = heldByReference(reference);
      return held ? { ...held.state } : null;
    },
    setState(reference, change) {
      const held = heldByReference(reference);
      if (!held) throw new Error(`fake provider: nothing held for ${reference}`);
      Object.assign(held.state, change);
    },
    holdAuthorization(input) {
      return {
        ...hold({ key: `held:${input.reference}`, reference: input.reference, amount: input.amount, currency: input.currency, status: input.status ?? "authorized" }).state,
      };
    },

    async authorize(input: AuthorizeInput): Promise<AuthorizeResult> {
      calls.push({ method: "authorize", input: { ...input } });
      if (fake.isDown) throw unavailable("authorize");
      const known = byKey.get(input.idempotencyKey);
      if (known) return structuredClone(known.answer);
      const answer = queued.shift() ?? fake.defaultAnswer;
      switch (answer.status) {
        case "unavailable":
          throw unavailable("authorize");
        case "token_rejected":
          throw new PaymentTokenRejectedError("fake provider: the token is unknown, used or expired");
        case "declined": {
          const result: AuthorizeResult = { status: "declined", code: answer.code ?? "card_declined", message: answer.message ?? "Your card was declined.", card };
          const held = hold({ key: input.idempotencyKey, reference: input.reference, amount: input.amount, currency: input.currency, status: "failed", answer: result });
          held.state.failureCode = result.code;
          if (answer.answerLost) throw unavailable("authorize");
          return structuredClone(result);
        }
        case "authorized":
        case "requires_action": {
          const amount = answer.amount ?? input.amount;
          const currency = answer.currency ?? input.currency;
          const held = hold({ key: input.idempotencyKey, reference: input.reference, amount, currency, status: answer.status });
          const { authorizationId } = held.state;
          held.answer =
            answer.status === "authorized"
              ? { status: "authorized", authorizationId, amount, currency, card }
              : { status: "requires_action", authorizationId, amount, currency, nextActionUrl: `https://fake-provider.test/3ds/${authorizationId}`, card };
          if (answer.answerLost) throw unavailable("authorize");
          return structuredClone(held.answer);
        }
      }
    },

    async capture(input) {
      enter("capture", input);
      const held = heldById(input.authorizationId);
      return replay(held, input.idempotencyKey, () => {
        if (held.state.status !== "authorized" && held.state.status !== "captured") {
          throw new Error(`fake provider: cannot capture an authorisation that is ${held.state.status}`);
        }
        held.state.status = "captured";
        held.state.capturedAmount += input.amount;
        return { captureId: `cap_${randomUUID()}` };
      });
    },

    async void(input) {
      enter("void", input);
      const held = heldById(input.authorizationId);
      replay(held, input.idempotencyKey, () => {
        if (held.state.status === "captured") throw new Error("fake provider: cannot void a captured authorisation");
        held.state.status = "voided";
        return true;
      });
    },

    async refund(input) {
      enter("refund", input);
      const held = heldById(input.authorizationId);
      return replay(held, input.idempotencyKey, () => {
        if (held.state.refundedAmount + input.amount > held.state.capturedAmount) throw new Error("fake provider: refund exceeds the captured amount");
        held.state.refundedAmount += input.amount;
        return { refundId: `re_${randomUUID()}` };
      });
    },

    async findAuthorization(input) {
      enter("findAuthorization", input);
      const held = heldByReference(input.reference);
      return held ? { ...held.state } : null;
    },

    async retrieveToken(input) {
      enter("retrieveToken", input);
      return { card };
    },
  };
  return fake;
}
