// The sandbox's outgoing webhooks: signed events posted to the shop in the background, retried with backoff.
import { SIGNATURE_HEADER, signWebhook } from "@checkout/payment-protocol";
import { createId } from "./sandbox-store.ts";

export type WebhookEventType = "authorization.succeeded" | "authorization.failed" | "authorization.captured" | "authorization.voided" | "refund.succeeded";

export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  /** Unix seconds. */
  created: number;
  data: Record<string, unknown>;
}

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface WebhookSenderOptions {
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Waits before the second, third … attempt; its length + 1 is the number of attempts. */
  retryDelaysMs?: readonly number[];
  /** How long one attempt may take before it counts as failed. */
  attemptTimeoutMs?: number;
}

export const DEFAULT_RETRY_DELAYS_MS = [500, 2500] as const;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;

export class WebhookSender {
  #target: WebhookTarget | null = null;
  #isClosed = false;
  readonly #now: () => number;
  readonly #retryDelaysMs: readonly number[];
  readonly #attemptTimeoutMs: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #requests = new Set<AbortController>();

  constructor(options: WebhookSenderOptions) {
    this.#now = options.now;
    this.#retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  }

  setTarget(target: WebhookTarget | null): void {
    if (target && !URL.canParse(target.url)) throw new Error(`setWebhookTarget: '${target.url}' is not a URL`);
    if (target?.secret === "") throw new Error("setWebhookTarget: the secret must not be empty");
    this.#target = target;
  }

  /** Queues the event for delivery and returns at once; null when no target is configured. */
  send(type: WebhookEventType, data: Record<string, unknown>): WebhookEvent | null {
    const target = this.#target;
    if (!target || this.#isClosed) return null;
    const event: WebhookEvent = { id: createId("evt"), type, created: Math.floor(this.#now() / 1000), data };
    // The event is serialised once, so every retry carries the identical body (and event id).
    void this.#deliver(target, JSON.stringify(event), 0);
    return event;
  }

  /** Cancels pending retries and in-flight deliveries. */
  close(): void {
    this.#isClosed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const controller of this.#requests) controller.abort();
    this.#requests.clear();
  }

  async #deliver(target: WebhookTarget, body: string, attempt: number): Promise<void> {
    if (this.#isClosed) return;
    if (await this.#attempt(target, body)) return;
    const delay = this.#retryDelaysMs[attempt];
    if (delay === undefined || this.#isClosed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#deliver(target, body, attempt + 1);
    }, delay);
    timer.unref();
    this.#timers.add(timer);
  }

  async #attempt(target: WebhookTarget, body: string): Promise<boolean> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#attemptTimeoutMs);
    timer.unref();
    this.#requests.add(controller);
    try {
      const timestamp = Math.floor(this.#now() / 1000);
      const response = await fetch(target.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          [SIGNATURE_HEADER]: signWebhook({ secret: target.secret, timestamp, body }),
          "User-Agent": "payment-sandbox-webhooks/1",
        },
        body,
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.status >= 200 && response.status < 300;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      this.#requests.delete(controller);
    }
  }
}
