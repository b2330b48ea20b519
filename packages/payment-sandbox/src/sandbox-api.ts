// The sandbox's server-to-server API: authorise, capture, void, refund and look up, as routes over the store.
import type { AuthorizationRecord, SandboxStore } from "./sandbox-store.ts";
import type { WebhookEventType } from "./webhook-sender.ts";

export type JsonObject = Record<string, unknown>;

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Hold the answer back this long (the slow test card); the work itself is already done. */
  delayMs?: number;
}

/** An outcome the endpoint reached by executing; only these are kept for idempotent replay. */
export interface Executed extends Reply {
  isExecuted: true;
}

export interface ApiRoute {
  method: "GET" | "POST";
  pattern: RegExp;
  handle(request: { params: string[]; query: URLSearchParams; body: JsonObject }): Reply | Executed;
}

export interface ApiHooks {
  /** Where the shopper answers the 3-D Secure challenge of an authorisation. */
  challengeUrl(authorizationId: string): string;
  /** Reports an event to the shop's webhook endpoint; must not block. */
  notify(type: WebhookEventType, data: JsonObject): void;
  slowCardDelayMs: number;
}

const CURRENCIES = ["USD", "EUR"];
const AMOUNT_MESSAGE = "amount must be a positive integer in minor units.";

export function errorBody(type: string, code: string, message: string, extra: JsonObject = {}): unknown {
  return { error: { type, code, message, ...extra } };
}

export function invalidRequest(code: string, message: string, extra: JsonObject = {}): Reply {
  return { status: 400, body: errorBody("invalid_request_error", code, message, extra) };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function executed(status: number, body: unknown): Executed {
  return { status, body, isExecuted: true };
}

function executedError(status: number, code: string, message: string, extra: JsonObject = {}): Executed {
  return executed(status, errorBody("invalid_request_error", code, message, extra));
}

function isPositiveAmount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

export function authorizationView(authorization: AuthorizationRecord, hooks: Pick<ApiHooks, "challengeUrl">): JsonObject {
  return {
    id: authorization.id,
    status: authorization.status,
    amount: authorization.amount,
    currency: authorization.currency,
    reference: authorization.reference,
    capturedAmount: authorization.capturedAmount,
    refundedAmount: authorization.refundedAmount,
    card: authorization.card,
    failureCode: authorization.failureCode,
    next_action: authorization.status === "requires_action" ? threeDSecureAction(authorization, hooks) : null,
    created: authorization.createdAt,
  };
}

function threeDSecureAction(authorization: AuthorizationRecord, hooks: Pick<ApiHooks, "challengeUrl">) {
  return { type: "three_d_secure", url: hooks.challengeUrl(authorization.id) };
}

function noSuchAuthorization(id: string): Executed {
  return executedError(404, "resource_missing", `No such authorization: '${id}'.`);
}

const wrongStateCodes: Record<string, string> = {
  captured: "authorization_already_captured",
  voided: "authorization_voided",
  failed: "authorization_failed",
  requires_action: "authorization_requires_action",
};

function wrongState(id: string, status: string, action: string): Executed {
  const code = wrongStateCodes[status] ?? "authorization_invalid_state";
  return executedError(409, code, `Authorization '${id}' is ${status} and cannot be ${action}.`);
}

function createAuthorization(store: SandboxStore, hooks: ApiHooks, body: JsonObject): Reply | Executed {
  const { token, amount, currency, reference } = body;
  if (typeof token !== "string" || token === "") {
    return invalidRequest("parameter_missing", "token is required.", { param: "token" });
  }
  if (!isPositiveAmount(amount)) return invalidRequest("parameter_invalid", AMOUNT_MESSAGE, { param: "amount" });
  if (typeof currency !== "string" || !CURRENCIES.includes(currency)) {
    const message = `currency must be one of ${CURRENCIES.join(", ")}.`;
    return invalidRequest("parameter_invalid", message, { param: "currency" });
  }
  if (typeof reference !== "string" || reference === "" || reference.length > 255) {
    const message = "reference must be a string of 1 to 255 characters.";
    return invalidRequest("parameter_invalid", message, { param: "reference" });
  }
  const outcome = store.authorize({ token, amount, currency, reference });
  switch (outcome.kind) {
    case "authorized": {
      const { id, amount: authorized, currency: authorizedCurrency, card } = outcome.authorization;
      const reply = executed(201, { id, status: "authorized", amount: authorized, currency: authorizedCurrency, card });
      return outcome.isSlow ? { ...reply, delayMs: hooks.slowCardDelayMs } : reply;
    }
    case "requires_action": {
      const { authorization } = outcome;
      const { id, amount: authorized, currency: authorizedCurrency, card } = authorization;
      const next_action = threeDSecureAction(authorization, hooks);
      return executed(201, { id, status: "requires_action", amount: authorized, currency: authorizedCurrency, card, next_action });
    }
    case "declined": {
      const { code, message, card } = outcome;
      return executed(402, { error: { type: "card_error", code, message, card } });
    }
    case "token_invalid":
      return executedError(400, "token_invalid", outcome.message);
  }
}

function captureAuthorization(store: SandboxStore, hooks: ApiHooks, id: string, body: JsonObject): Reply | Executed {
  const { amount } = body;
  if (amount !== undefined && !isPositiveAmount(amount)) {
    return invalidRequest("parameter_invalid", AMOUNT_MESSAGE, { param: "amount" });
  }
  const outcome = store.capture(id, amount);
  switch (outcome.kind) {
    case "captured": {
      const { capture } = outcome;
      hooks.notify("authorization.captured", { authorization: authorizationView(outcome.authorization, hooks), capture });
      return executed(200, { id: capture.id, status: "captured", amount: capture.amount, authorization: id });
    }
    case "not_found":
      return noSuchAuthorization(id);
    case "illegal_state":
      return wrongState(id, outcome.status, "captured");
    case "amount_too_large": {
      const message = `amount must not exceed the authorised ${outcome.maximum}.`;
      return executedError(400, "amount_too_large", message, { param: "amount" });
    }
  }
}

function voidAuthorization(store: SandboxStore, hooks: ApiHooks, id: string): Executed {
  const outcome = store.void(id);
  switch (outcome.kind) {
    case "voided":
      hooks.notify("authorization.voided", { authorization: authorizationView(outcome.authorization, hooks) });
      return executed(200, { id, status: "voided" });
    case "not_found":
      return noSuchAuthorization(id);
    case "illegal_state":
      return wrongState(id, outcome.status, "voided");
  }
}

function createRefund(store: SandboxStore, hooks: ApiHooks, body: JsonObject): Reply | Executed {
  const { authorization, amount } = body;
  if (typeof authorization !== "string" || authorization === "") {
    return invalidRequest("parameter_missing", "authorization is required.", { param: "authorization" });
  }
  if (!isPositiveAmount(amount)) return invalidRequest("parameter_invalid", AMOUNT_MESSAGE, { param: "amount" });
  const outcome = store.refund(authorization, amount);
  switch (outcome.kind) {
    case "refunded":
      hooks.notify("refund.succeeded", { authorization: authorizationView(outcome.authorization, hooks), refund: outcome.refund });
      return executed(201, { id: outcome.refund.id, amount: outcome.refund.amount, authorization });
    case "not_found":
      return noSuchAuthorization(authorization);
    case "not_captured": {
      const message = `Authorization '${authorization}' is ${outcome.status}; only captured money can be refunded.`;
      return executedError(400, "authorization_not_captured", message);
    }
    case "amount_too_large": {
      const message = `amount must not exceed the ${outcome.maximum} captured and not yet refunded.`;
      return executedError(400, "amount_too_large", message, { param: "amount" });
    }
  }
}

/** A token as the merchant's server sees it: the card summary with its fingerprint, so limits per card apply before authorising. */
function retrieveToken(store: SandboxStore, id: string): Reply {
  const token = store.getToken(id);
  if (!token) return { status: 404, body: errorBody("invalid_request_error", "resource_missing", `No such token: '${id}'.`) };
  const { brand, last4, expMonth, expYear, fingerprint } = token.card;
  return { status: 200, body: { id: token.id, card: { brand, last4, expMonth, expYear, fingerprint }, used: token.usedAt !== null, created: token.createdAt } };
}

/** The latest authorisation made for a reference (our caller's order number), for after-the-fact lookups. */
function findAuthorizationByReference(store: SandboxStore, hooks: ApiHooks, query: URLSearchParams): Reply {
  const reference = query.get("reference");
  if (reference === null || reference === "") {
    return invalidRequest("parameter_missing", "reference is required.", { param: "reference" });
  }
  const authorization = store.findLatestByReference(reference);
  if (!authorization) {
    return { status: 404, body: errorBody("invalid_request_error", "resource_missing", `No authorization for reference '${reference}'.`) };
  }
  return { status: 200, body: authorizationView(authorization, hooks) };
}

export function createApiRoutes(store: SandboxStore, hooks: ApiHooks): ApiRoute[] {
  return [
    {
      method: "POST",
      pattern: /^\/v1\/authorizations$/,
      handle: ({ body }) => createAuthorization(store, hooks, body),
    },
    {
      method: "GET",
      pattern: /^\/v1\/authorizations$/,
      handle: ({ query }) => findAuthorizationByReference(store, hooks, query),
    },
    {
      method: "GET",
      pattern: /^\/v1\/authorizations\/([\w-]+)$/,
      handle: ({ params: [id = ""] }) => {
        const authorization = store.getAuthorization(id);
        return authorization ? { status: 200, body: authorizationView(authorization, hooks) } : noSuchAuthorization(id);
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/authorizations\/([\w-]+)\/capture$/,
      handle: ({ params: [id = ""], body }) => captureAuthorization(store, hooks, id, body),
    },
    {
      method: "POST",
      pattern: /^\/v1\/authorizations\/([\w-]+)\/void$/,
      handle: ({ params: [id = ""] }) => voidAuthorization(store, hooks, id),
    },
    {
      method: "GET",
      pattern: /^\/v1\/tokens\/([\w-]+)$/,
      handle: ({ params: [id = ""] }) => retrieveToken(store, id),
    },
    {
      method: "POST",
      pattern: /^\/v1\/refunds$/,
      handle: ({ body }) => createRefund(store, hooks, body),
    },
  ];
}
