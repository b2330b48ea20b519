// The sandbox's server-to-server API: authorise, capture, void, refund and look up, as routes over the store.
import type { AuthorizationRecord, SandboxStore } from "./sandbox-store.ts";

export type JsonObject = Record<string, unknown>;

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** An outcome the endpoint reached by executing; only these are kept for idempotent replay. */
export interface Executed extends Reply {
  isExecuted: true;
}

export interface ApiRoute {
  method: "GET" | "POST";
  pattern: RegExp;
  handle(request: { params: string[]; body: JsonObject }): Reply | Executed;
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

function authorizationView(authorization: AuthorizationRecord): unknown {
  return {
    id: authorization.id,
    status: authorization.status,
    amount: authorization.amount,
    currency: authorization.currency,
    reference: authorization.reference,
    capturedAmount: authorization.capturedAmount,
    refundedAmount: authorization.refundedAmount,
    card: authorization.card,
    created: authorization.createdAt,
  };
}

function noSuchAuthorization(id: string): Executed {
  return executedError(404, "resource_missing", `No such authorization: '${id}'.`);
}

function wrongState(id: string, status: string, action: string): Executed {
  const code = status === "captured" ? "authorization_already_captured" : "authorization_voided";
  return executedError(409, code, `Authorization '${id}' is ${status} and cannot be ${action}.`);
}

function createAuthorization(store: SandboxStore, body: JsonObject): Reply | Executed {
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
      return executed(201, { id, status: "authorized", amount: authorized, currency: authorizedCurrency, card });
    }
    case "declined": {
      const { code, message, card } = outcome;
      return executed(402, { error: { type: "card_error", code, message, card } });
    }
    case "token_invalid":
      return executedError(400, "token_invalid", outcome.message);
  }
}

function captureAuthorization(store: SandboxStore, id: string, body: JsonObject): Reply | Executed {
  const { amount } = body;
  if (amount !== undefined && !isPositiveAmount(amount)) {
    return invalidRequest("parameter_invalid", AMOUNT_MESSAGE, { param: "amount" });
  }
  const outcome = store.capture(id, amount);
  switch (outcome.kind) {
    case "captured": {
      const { capture } = outcome;
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

function voidAuthorization(store: SandboxStore, id: string): Executed {
  const outcome = store.void(id);
  switch (outcome.kind) {
    case "voided":
      return executed(200, { id, status: "voided" });
    case "not_found":
      return noSuchAuthorization(id);
    case "illegal_state":
      return wrongState(id, outcome.status, "voided");
  }
}

function createRefund(store: SandboxStore, body: JsonObject): Reply | Executed {
  const { authorization, amount } = body;
  if (typeof authorization !== "string" || authorization === "") {
    return invalidRequest("parameter_missing", "authorization is required.", { param: "authorization" });
  }
  if (!isPositiveAmount(amount)) return invalidRequest("parameter_invalid", AMOUNT_MESSAGE, { param: "amount" });
  const outcome = store.refund(authorization, amount);
  switch (outcome.kind) {
    case "refunded":
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

export function createApiRoutes(store: SandboxStore): ApiRoute[] {
  return [
    {
      method: "POST",
      pattern: /^\/v1\/authorizations$/,
      handle: ({ body }) => createAuthorization(store, body),
    },
    {
      method: "GET",
      pattern: /^\/v1\/authorizations\/([\w-]+)$/,
      handle: ({ params: [id = ""] }) => {
        const authorization = store.getAuthorization(id);
        return authorization ? { status: 200, body: authorizationView(authorization) } : noSuchAuthorization(id);
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/authorizations\/([\w-]+)\/capture$/,
      handle: ({ params: [id = ""], body }) => captureAuthorization(store, id, body),
    },
    {
      method: "POST",
      pattern: /^\/v1\/authorizations\/([\w-]+)\/void$/,
      handle: ({ params: [id = ""] }) => voidAuthorization(store, id),
    },
    {
      method: "POST",
      pattern: /^\/v1\/refunds$/,
      handle: ({ body }) => createRefund(store, body),
    },
  ];
}
