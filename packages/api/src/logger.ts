// Structured JSON logs (pino); every request logs through a child carrying its request id.
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "checkout-api" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Payment tokens and anything card-like never reach a log line.
      redact: { paths: ["paymentToken", "*.paymentToken", "card", "*.card", "number", "cvc"], censor: "[redacted]" },
    },
    options.destination,
  );
}
