// The PaymentProvider that talks to the payment sandbox over HTTP, as it would to a real processor.
import {
  PaymentProviderUnavailableError,
  PaymentTokenRejectedError,
  type AuthorizeResult,
  type CardSummary,
  type PaymentProvider,
} from "@checkout/core";

export interface SandboxPaymentProviderOptions {
  baseUrl: string;
  secretKey: string;
  timeoutMs?: number;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readCard(value: unknown): CardSummary | null {
  if (!isRecord(value) || typeof value.brand !== "string" || typeof value.last4 !== "string") return null;
  return { brand: value.brand, last4: value.last4 };
}

function readError(body: Record<string, unknown>): { code: string; message: string; card: CardSummary | null } {
  const error = isRecord(body.error) ? body.error : {};
  return {
    code: typeof error.code === "string" ? error.code : "unknown",
    message: typeof error.message === "string" ? error.message : "The payment provider gave no reason.",
    card: readCard(error.card),
  };
}

export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = "sandbox";
  readonly #baseUrl: string;
  readonly #secretKey: string;
  readonly #timeoutMs: number;

  constructor(options: SandboxPaymentProviderOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#secretKey = options.secretKey;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
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
      if (typeof response.body.id !== "string" || !card) throw this.#garbled(path);
      return { status: "authorized", authorizationId: response.body.id, card };
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

  /** Resolves only with a parsed 2xx–4xx answer; anything that leaves the outcome unknown throws. */
  async #post(path: string, idempotencyKey: string, body: Record<string, unknown>): Promise<ProviderResponse> {
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${this.#baseUrl}${path}`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${this.#secretKey}`,
          "Content-Type": "application/json",
          "Idempotency-Key": idempotencyKey,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const isTimeout = error instanceof Error && error.name === "TimeoutError";
      const reason = isTimeout ? `timed out after ${this.#timeoutMs} ms` : "could not be reached";
      throw new PaymentProviderUnavailableError(`Payment sandbox ${reason} (POST ${path})`, { cause: error });
    }
    // A rate limit or server error says nothing about whether the operation happened.
    if (status >= 500 || status === 429) {
      throw new PaymentProviderUnavailableError(`Payment sandbox answered ${status} (POST ${path})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.#garbled(path);
    }
    if (!isRecord(parsed)) throw this.#garbled(path);
    return { status, body: parsed };
  }

  #garbled(path: string): PaymentProviderUnavailableError {
    return new PaymentProviderUnavailableError(`Payment sandbox gave an unreadable answer (POST ${path})`);
  }

  #rejected(path: string, response: ProviderResponse): Error {
    const { code, message } = readError(response.body);
    return new Error(`Payment sandbox rejected POST ${path} with ${response.status} ${code}: ${message}`);
  }
}
