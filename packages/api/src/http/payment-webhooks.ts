// POST /webhooks/payments: the payment provider's signed events. Verifies the signature over the raw
// body, then hands the event to core (ProviderEvents.receive), which dedupes by event id and settles orders.
import type http from "node:http";
import { isAppError, ProviderEvents } from "@checkout/core";
import type { Services } from "../context.ts";
import type { Logger } from "../logger.ts";
import { SIGNATURE_HEADER, verifyWebhookSignature } from "@checkout/payment-protocol";
import { readRawBody, type BodyLimits } from "./body-reader.ts";
import { isEdgeError } from "./edge-error.ts";

export const PAYMENT_WEBHOOK_PATH = "/webhooks/payments";

export interface PaymentWebhookOptions {
  services: Services;
  secret: string;
  /** The edge's body limits (MAX_BODY_BYTES, BODY_TIMEOUT_MS), as for every other request. */
  body: BodyLimits;
  /** How far the signature's timestamp may be from now; default 300 s. */
  toleranceSeconds?: number;
  now?: () => number;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), "cache-control": "no-store" });
  res.end(payload);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

export function createPaymentWebhookHandler(options: PaymentWebhookOptions) {
  const { services } = options;
  const toleranceSeconds = options.toleranceSeconds ?? 300;
  const now = options.now ?? Date.now;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, log: Logger): Promise<void> {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return sendError(res, 405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${PAYMENT_WEBHOOK_PATH}`);
    }
    let rawBody: Buffer;
    try {
      rawBody = await readRawBody(req, options.body);
    } catch (error) {
      if (!isEdgeError(error)) throw error;
      res.setHeader("connection", "close");
      return sendError(res, error.code === "REQUEST_TIMEOUT" ? 408 : 413, error.code, error.message);
    }
    const check = verifyWebhookSignature({
      header: req.headers[SIGNATURE_HEADER],
      rawBody,
      secret: options.secret,
      toleranceSeconds,
      nowSeconds: Math.floor(now() / 1000),
    });
    if (!check.ok) {
      log.warn({ reason: check.reason }, "payment webhook rejected");
      return sendError(res, 400, "SIGNATURE_INVALID", check.reason);
    }
    let event: unknown;
    try {
      event = JSON.parse(rawBody.toString("utf8"));
    } catch {
      return sendError(res, 400, "BAD_INPUT", "The webhook body is not valid JSON");
    }
    try {
      const result = await ProviderEvents.receive({ db: services.db, payments: services.payments, captureMode: services.captureMode, event });
      const { id, type } = event as { id: string; type: string };
      if (result.isDuplicate) {
        log.info({ eventId: id, type }, "payment webhook duplicate");
        return sendJson(res, 200, { received: true, duplicate: true });
      }
      log.info({ eventId: id, type, outcome: result.outcome, reason: result.reason }, "payment webhook processed");
      return sendJson(res, 200, { received: true });
    } catch (error) {
      if (isAppError(error) && error.code === "BAD_INPUT") return sendError(res, 400, "BAD_INPUT", error.message);
      // Unknown outcome: answer 5xx so the provider delivers the event again.
      log.error({ err: error }, "payment webhook failed");
      return sendError(res, 500, "INTERNAL", "The event could not be processed; deliver it again later");
    }
  }

  return (req: http.IncomingMessage, res: http.ServerResponse, log: Logger): void => {
    handle(req, res, log).catch((error: unknown) => {
      log.error({ err: error }, "payment webhook failed");
      if (!res.headersSent) sendError(res, 500, "INTERNAL", "The event could not be processed; deliver it again later");
      else res.destroy();
    });
  };
}
