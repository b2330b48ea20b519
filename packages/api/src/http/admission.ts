// Admission control: at most `maxInFlight` API requests run at once, a short queue waits behind them
// for at most `queueTimeoutMs`, and everything beyond is answered 503 + Retry-After at once. Under
// overload the database pool's own queue would otherwise grow without bound and every request time out.
import type http from "node:http";

export interface AdmissionOptions {
  maxInFlight: number;
  maxQueue: number;
  queueTimeoutMs: number;
  /** Seconds a shed client is told to wait before retrying. */
  retryAfterSeconds: number;
  /**
   * Told at most once a second how many requests were shed since it was last told, by reason. Shed requests get no
   * access-log line each: under a retry storm that line was a large share of the cost of every 503.
   */
  onShed?: (summary: { shed: number; queue_full: number; queue_timeout: number; seconds: number }) => void;
  /**
   * Writes the 503 for a shed request: the request pipeline's own error responder, so a shed answer has the shape,
   * headers and codes of every other error. Without it (admission used on its own) a plain tRPC-shaped 503 is written.
   */
  respond?: (req: http.IncomingMessage, res: http.ServerResponse, shed: ShedAnswer) => void;
}

/** What a shed request is told. */
export interface ShedAnswer {
  path: string;
  message: string;
  retryAfterSeconds: number;
  /** The connection is closed after this answer (it was shed CLOSE_AFTER_CONSECUTIVE_SHEDS times in a row). */
  closeConnection: boolean;
}

/**
 * A connection whose requests were shed this many times in a row is closed after the last 503: a client that retries at
 * once, ignoring Retry-After, then pays a reconnect per few attempts instead of costing the server a 503 per
 * microsecond. Connections that also get requests through (or are shed now and then) stay open.
 */
export const CLOSE_AFTER_CONSECUTIVE_SHEDS = 3;

interface Waiter {
  start(): void;
  timer: NodeJS.Timeout;
}

/**
 * Which slots a procedure takes (its `.meta()` admission class): shoppers share MAX_IN_FLIGHT and its queue;
 * operators (admin.*) have a few slots of their own first, so a refund or an invariants check still runs while
 * the shop is overloaded; beyond those they wait in the shoppers' queue like anyone else.
 */
export type AdmissionClass = "shopper" | "operator";
export const OPERATOR_SLOTS = 2;

export interface Admission {
  /** Runs `handle` now, or once a slot frees up, or answers 503 if neither happens in time. */
  admit(req: http.IncomingMessage, res: http.ServerResponse, path: string, handle: () => void, admissionClass?: AdmissionClass): void;
  /** Whether this response was a 503 from admission control (logged in onShed's summary, not per request). */
  isShed(res: http.ServerResponse): boolean;
  /** Prometheus lines for the shed counter and the queue gauge. */
  renderMetrics(): string;
}

export function createAdmission(options: AdmissionOptions): Admission {
  let active = 0;
  let operatorsActive = 0;
  const queue: Waiter[] = [];
  const shed = { queue_full: 0, queue_timeout: 0 };
  const shedResponses = new WeakSet<http.ServerResponse>();
  const consecutiveSheds = new WeakMap<object, number>();
  // What onShed has not been told yet, and since when.
  const unreported = { queue_full: 0, queue_timeout: 0, since: 0 };
  let reportTimer: NodeJS.Timeout | null = null;

  function report(): void {
    reportTimer = null;
    const { queue_full, queue_timeout, since } = unreported;
    options.onShed?.({ shed: queue_full + queue_timeout, queue_full, queue_timeout, seconds: Math.round((performance.now() - since) / 100) / 10 });
    unreported.queue_full = 0;
    unreported.queue_timeout = 0;
  }

  function release(): void {
    active -= 1;
    const next = queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.start();
    }
  }

  function start(res: http.ServerResponse, handle: () => void): void {
    active += 1;
    consecutiveSheds.delete(res.socket ?? res);
    res.once("close", release);
    handle();
  }

  function reject(req: http.IncomingMessage, res: http.ServerResponse, path: string, reason: keyof typeof shed): void {
    shed[reason] += 1;
    if (options.onShed) {
      if (!reportTimer) {
        unreported.since = performance.now();
        reportTimer = setTimeout(report, 1000);
        reportTimer.unref();
      }
      unreported[reason] += 1;
    }
    if (res.headersSent || res.destroyed) return;
    shedResponses.add(res);
    const seconds = options.retryAfterSeconds;
    const message = `The service is busy; retry in ${seconds} s`;
    // The pipeline has read the body before admission; resume() is a no-op then, and discards one otherwise.
    req.resume();
    const socket = req.socket;
    const sheds = (consecutiveSheds.get(socket) ?? 0) + 1;
    consecutiveSheds.set(socket, sheds);
    const closeConnection = sheds >= CLOSE_AFTER_CONSECUTIVE_SHEDS;
    if (options.respond) {
      options.respond(req, res, { path, message, retryAfterSeconds: seconds, closeConnection });
      return;
    }
    // The same wire shape as a tRPC error, so the typed client reads `data.appCode` and `data.retryAfterSeconds`.
    const payload = JSON.stringify({
      error: { message, code: -32603, data: { code: "SERVICE_UNAVAILABLE", httpStatus: 503, path, appCode: "OVERLOADED", details: { retryAfterSeconds: seconds } } },
    });
    const headers: http.OutgoingHttpHeaders = {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
      "retry-after": String(seconds),
      "cache-control": "no-store",
    };
    if (closeConnection) headers.connection = "close";
    res.writeHead(503, headers);
    res.end(payload);
  }

  return {
    admit(req, res, path, handle, admissionClass = "shopper") {
      if (admissionClass === "operator" && operatorsActive < OPERATOR_SLOTS) {
        operatorsActive += 1;
        res.once("close", () => (operatorsActive -= 1));
        handle();
        return;
      }
      if (active < options.maxInFlight) {
        start(res, handle);
        return;
      }
      if (queue.length >= options.maxQueue) {
        reject(req, res, path, "queue_full");
        return;
      }
      const waiter: Waiter = {
        start: () => {
          res.off("close", abandon);
          start(res, handle);
        },
        timer: setTimeout(() => {
          remove();
          reject(req, res, path, "queue_timeout");
        }, options.queueTimeoutMs),
      };
      const remove = () => {
        const at = queue.indexOf(waiter);
        if (at !== -1) queue.splice(at, 1);
        res.off("close", abandon);
      };
      // A client that gives up while queued leaves the queue.
      const abandon = () => {
        clearTimeout(waiter.timer);
        remove();
      };
      res.once("close", abandon);
      queue.push(waiter);
    },
    isShed(res) {
      return shedResponses.has(res);
    },
    renderMetrics() {
      return [
        "# HELP http_requests_shed_total API requests answered 503 by admission control, by reason.",
        "# TYPE http_requests_shed_total counter",
        ...Object.entries(shed).map(([reason, value]) => `http_requests_shed_total{reason="${reason}"} ${value}`),
        "# HELP http_requests_queued API requests waiting for an admission slot.",
        "# TYPE http_requests_queued gauge",
        `http_requests_queued ${queue.length}`,
        "",
      ].join("\n");
    },
  };
}
