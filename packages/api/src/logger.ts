// Structured JSON logs (pino); every request logs through a child carrying its request id. Cart and order ids
// are capabilities (whoever holds one opens the cart or the order), so no log line holds one in clear.
import { createHash } from "node:crypto";
import pino, { type Logger } from "pino";

export type { Logger };

/** Any UUID except a request id's (those are for correlation, and open nothing). */
const CAPABILITY = /(?<!"requestId":")\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/** How a cart or order id appears in logs: `id#` and 12 hex digits of its SHA-256, the same for the same id. */
export function capabilityRef(id: string): string {
  return `id#${createHash("sha256").update(id.toLowerCase()).digest("hex").slice(0, 12)}`;
}

/** One log line with every cart, order or other UUID capability replaced by its reference. */
export function scrubCapabilities(line: string): string {
  return line.replace(CAPABILITY, capabilityRef);
}

function scrubbing(destination: pino.DestinationStream): pino.DestinationStream {
  return { write: (line: string) => destination.write(scrubCapabilities(line)) };
}

/** Log lines arriving within this long of the last write wait and go out together (at most this late). */
export const LOG_MAX_DELAY_MS = 10;
/** A batch is written at once when it reaches this many bytes. */
export const LOG_BATCH_BYTES = 8192;

/**
 * stdout, written in batches under load: one write(2) per access-log line cost the API about a tenth of its CPU per
 * request. A line that comes after a quiet spell (LOG_MAX_DELAY_MS since the last write) is written at once; lines
 * that follow closely wait at most LOG_MAX_DELAY_MS and go out in one write. Each write is synchronous, so lines keep
 * their order and none is left in a write still in flight when the process exits (asynchronous writes were: their
 * lines came out after later ones, or not at all); what is waiting is written at exit (process.exit, and the signals
 * main.ts handles), so only a SIGKILL can lose the last few milliseconds of lines.
 */
function batchedStdout(): pino.DestinationStream {
  sharedStdout ??= openBatchedStdout();
  return sharedStdout;
}

/** One per process: every logger writes through it, and one exit handler empties it. */
let sharedStdout: pino.DestinationStream | undefined;

function openBatchedStdout(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, sync: true, minLength: LOG_BATCH_BYTES });
  let lastWrite = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | null = null;
  let isWaiting = false;
  const flush = () => {
    timer = null;
    if (!isWaiting) return;
    isWaiting = false;
    lastWrite = performance.now();
    stream.flush();
  };
  // pino empties only asynchronous destinations at exit; this one is synchronous but may hold a batch.
  process.on("exit", () => {
    if (isWaiting) stream.flushSync();
  });
  return {
    write(line: string) {
      stream.write(line);
      isWaiting = true;
      if (performance.now() - lastWrite >= LOG_MAX_DELAY_MS) {
        flush();
      } else if (timer === null) {
        timer = setTimeout(flush, LOG_MAX_DELAY_MS);
        timer.unref();
      }
    },
  };
}

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
    scrubbing(options.destination ?? batchedStdout()),
  );
}
