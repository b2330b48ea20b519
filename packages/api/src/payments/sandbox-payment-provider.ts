// The PaymentProvider that talks to the payment sandbox over HTTP, as it would to a real processor.
import {
  currencies,
  PaymentProviderUnavailableError,
  PaymentTokenRejectedError,
  type AuthorizationState,
  type AuthorizeResult,
  type CardSummary,
  type PaymentProvider,
} from "@checkout/core";
import type { TraceablePaymentProvider, TraceParent, Tracing } from "../telemetry/tracing.ts";
import { exchange } from "./http-exchange.ts";

export interface SandboxPaymentProviderOptions {
  baseUrl: string;
  secretKey: string;
  timeoutMs?: number;
  /** A client span per call when tracing is on, as a child of `traceParent` (tracedUnder). */
  tracing?: Tracing;
  traceParent?: TraceParent;
}

type AuthorizeInput = Parameters<PaymentProvider["authorize"]>[0];
type CaptureInput = Parameters<PaymentProvider["capture"]>[0];
type VoidInput = Parameters<PaymentProvider["void"]>[0];
type RefundInput = Parameters<PaymentProvider["refund"]>[0];

interface ProviderResponse {
  status: number;
  body: Record<string, unknown>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A token lookup only sharpens the limits per card; it never waits longer than this, whatever the call timeout. */
const MAX_LOOKUP_TIMEOUT_MS = 2_000;
const AUTHORIZATION_STATUSES: readonly AuthorizationState["status"][] = ["requires_action", "authorized", "failed", "captured", "voided"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readCard(value: unknown): CardSummary | null {
  if (!isRecord(value) || typeof value.brand !== "string" || typeof value.last4 !== "string") return null;
  const fingerprint = typeof value.fingerprint === "string" && /^[\w-]{8,64}$/.test(value.fingerprint) ? value.fingerprint : undefined;
  return { brand: value.brand, last4: value.last4, ...(fingerprint ? { fingerprint } : {}) };
}

function readNextActionUrl(value: unknown): string | null {
  if (!isRecord(value) || value.type !== "three_d_secure" || typeof value.url !== "string") return null;
  return URL.canParse(value.url) ? value.url : null;
}

function isAmount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function readAuthorizationState(body: Record<string, unknown>): AuthorizationState | null {
  const { id, status, amount, currency, capturedAmount, refundedAmount, failureCode } = body;
  const card = readCard(body.card);
  const knownStatus = AUTHORIZATION_STATUSES.find((candidate) => candidate === status);
  const knownCurrency = currencies.find((candidate) => candidate === currency);
  if (typeof id !== "string" || !knownStatus || !card || !knownCurrency) return null;
  if (!isAmount(amount) || !isAmount(capturedAmount) || !isAmount(refundedAmount)) return null;
  return {
    authorizationId: id,
    status: knownStatus,
    amount,
    currency: knownCurrency,
    capturedAmount,
    refundedAmount,
    card,
    failureCode: typeof failureCode === "string" ? failureCode : null,
  };
}

function readError(body: Record<string, unknown>): { code: string; message: string; card: CardSummary | null } {
  const error = isRecord(body.error) ? body.error : {};
  return {
    code: typeof error.code === "string" ? error.code : "unknown",
    message: typeof error.message === "string" ? error.message : "The payment provider gave no reason.",
    card: readCard(error.card),
  };
}

/** A provider path as its route, with ids, tokens and the query left out (they name a payment; the route names the call). */
function routeTemplateOf(path: string): string {
  const withoutQuery = path.split("?", 1)[0]!;
  return withoutQuery.replace(/^(\/v1\/(?:authorizations|tokens|refunds))\/[^/]+/, "$1/{id}");
}

export class SandboxPaymentProvider implements PaymentProvider, TraceablePaymentProvider {
  readonly name = "sandbox";
  readonly #baseUrl: string;
  readonly #secretKey: string;
  readonly #timeoutMs: number;
  readonly #options: SandboxPaymentProviderOptions;
  readonly #tracing: Tracing | undefined;
  readonly #traceParent: TraceParent | undefined;

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  constructor(options: SandboxPaymentProviderOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#secretKey = options.secretKey;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#options = options;
    this.#tracing = options.tracing;
    this.#traceParent = options.traceParent;
  }

  /** The same provider, its calls reported as client spans under `parent` (a traced procedure's span). */
  tracedUnder(parent: TraceParent): SandboxPaymentProvider {
    return new SandboxPaymentProvider({ ...this.#options, traceParent: parent });
  }

  async authorize(input: AuthorizeInput): Promise<AuthorizeResult> {
    const path = "/v1/authorizations";
    const response = await this.#post(path, input.idempotencyKey, {
      token: input.token,
      amount: input.amount,
      currency: input.currency,
      reference: input.reference,
    });
    if (response.status === 201) {
      const card = readCard(response.body.card);
      const { id, amount, currency } = response.body;
      const knownCurrency = currencies.find((candidate) => candidate === currency);
      if (typeof id !== "string" || !card || !isAmount(amount) || !knownCurrency) throw this.#garbled(path);
      const authorized = { authorizationId: id, amount, currency: knownCurrency, card };
      if (response.body.status === "requires_action") {
        const nextActionUrl = readNextActionUrl(response.body.next_action);
        if (!nextActionUrl) throw this.#garbled(path);
        return { status: "requires_action", ...authorized, nextActionUrl };
      }
      if (response.body.status !== "authorized") throw this.#garbled(path);
      return { status: "authorized", ...authorized };
    }
    const error = readError(response.body);
    if (response.status === 402) {
      return { status: "declined", code: error.code, message: error.message, card: error.card };
    }
    if (response.status === 400 && error.code === "token_invalid") {
      throw new PaymentTokenRejectedError(error.message);
    }
    throw this.#rejected(path, response);
  }

  async capture(input: CaptureInput): Promise<{ captureId: string }> {
    const path = `/v1/authorizations/${encodeURIComponent(input.authorizationId)}/capture`;
    const response = await this.#post(path, input.idempotencyKey, { amount: input.amount });
    if (response.status !== 200) throw this.#rejected(path, response);
    if (typeof response.body.id !== "string") throw this.#garbled(path);
    return { captureId: response.body.id };
  }

  async void(input: VoidInput): Promise<void> {
    const path = `/v1/authorizations/${encodeURIComponent(input.authorizationId)}/void`;
    const response = await this.#post(path, input.idempotencyKey, {});
    if (response.status !== 200) throw this.#rejected(path, response);
  }

  async refund(input: RefundInput): Promise<{ refundId: string }> {
    const path = "/v1/refunds";
    const response = await this.#post(path, input.idempotencyKey, {
      authorization: input.authorizationId,
      amount: input.amount,
    });
    if (response.status !== 201) throw this.#rejected(path, response);
    if (typeof response.body.id !== "string") throw this.#garbled(path);
    return { refundId: response.body.id };
  }

  async findAuthorization(input: { reference: string }): Promise<AuthorizationState | null> {
    const path = `/v1/authorizations?reference=${encodeURIComponent(input.reference)}`;
    const response = await this.#request("GET", path);
    if (response.status === 404 && readError(response.body).code === "resource_missing") return null;
    if (response.status !== 200) throw this.#rejected(path, response, "GET");
    const state = readAuthorizationState(response.body);
    if (!state) throw this.#garbled(path, "GET");
    return state;
  }

  async retrieveToken(input: { token: string }): Promise<{ card: CardSummary } | null> {
    const path = `/v1/tokens/${encodeURIComponent(input.token)}`;
    const response = await this.#request("GET", path, undefined, Math.min(this.#timeoutMs, MAX_LOOKUP_TIMEOUT_MS));
    if (response.status === 404 && readError(response.body).code === "resource_missing") return null;
    if (response.status !== 200) throw this.#rejected(path, response, "GET");
    const card = readCard(response.body.card);
    if (!card) throw this.#garbled(path, "GET");
    return { card };
  }

  #post(path: string, idempotencyKey: string, body: Record<string, unknown>): Promise<ProviderResponse> {
    return this.#request("POST", path, { idempotencyKey, body });
  }

  /** Resolves only with a parsed 2xx–4xx answer; anything that leaves the outcome unknown throws. */
  async #request(
    method: "GET" | "POST",
    path: string,
    post?: { idempotencyKey: string; body: Record<string, unknown> },
    timeoutMs: number = this.#timeoutMs,
  ): Promise<ProviderResponse> {
    const send = () => this.#send(method, path, post, timeoutMs);
    const { status, text } =
      this.#tracing && this.#traceParent
        ? await this.#tracing.traceClientCall(this.#traceParent, { method, template: routeTemplateOf(path), serverAddress: new URL(this.#baseUrl).host }, send)
        : await send();
    // A rate limit or server error says nothing about whether the operation happened.
    if (status >= 500 || status === 429) {
      throw new PaymentProviderUnavailableError(`Payment sandbox answered ${status} (${method} ${path})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.#garbled(path, method);
    }
    if (!isRecord(parsed)) throw this.#garbled(path, method);
    return { status, body: parsed };
  }

  /** The HTTP exchange alone: its status and text, or PaymentProviderUnavailableError when there is no answer. */
  async #send(
    method: "GET" | "POST",
    path: string,
    post: { idempotencyKey: string; body: Record<string, unknown> } | undefined,
    timeoutMs: number,
  ): Promise<{ status: number; text: string }> {
    try {
      const headers: Record<string, string> = { Authorization: `Bearer ${this.#secretKey}` };
      if (post) {
        headers["Content-Type"] = "application/json";
        headers["Idempotency-Key"] = post.idempotencyKey;
      }
      return await exchange(`${this.#baseUrl}${path}`, { method, headers, body: post ? JSON.stringify(post.body) : undefined, timeoutMs });
    } catch (error) {
      const isTimeout = error instanceof Error && error.name === "TimeoutError";
      const reason = isTimeout ? `timed out after ${timeoutMs} ms` : "could not be reached";
      throw new PaymentProviderUnavailableError(`Payment sandbox ${reason} (${method} ${path})`, { cause: error });
    }
  }

  #garbled(path: string, method: "GET" | "POST" = "POST"): PaymentProviderUnavailableError {
    return new PaymentProviderUnavailableError(`Payment sandbox gave an unreadable answer (${method} ${path})`);
  }

  #rejected(path: string, response: ProviderResponse, method: "GET" | "POST" = "POST"): Error {
    const { code, message } = readError(response.body);
    return new Error(`Payment sandbox rejected ${method} ${path} with ${response.status} ${code}: ${message}`);
  }
}
