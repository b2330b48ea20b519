// How the overload is offered to the API: three scenarios of `cart.create` calls, two closed loops (clients that retry
// at once, clients that wait the Retry-After) and open arrivals at a fixed rate; each reports every answer as it comes.
import { setMaxListeners } from "node:events";
import http from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import autocannon from "autocannon";
import type { OverloadConfig } from "./settings.ts";

/**
 * How a client answered 503 behaves: "instant" sends its next request at once (autocannon's closed loop, the worst case
 * for shedding); "retry-after" waits the Retry-After the API sent (1 s) first, as a polite client would. "open" is not a
 * closed loop: requests arrive at a fixed rate above capacity whatever the answers (new shoppers keep coming), no retries.
 */
export type Scenario = "instant" | "retry-after" | "open";
export const SCENARIOS: Scenario[] = ["instant", "retry-after", "open"];

const CART_CREATE_BODY = JSON.stringify({ currency: "USD" });

export type OnResponse = (statusCode: number, responseTimeMs: number) => void;

/** `connections` clients in a closed loop, each sending the next `cart.create` as soon as it has an answer (autocannon). */
async function instantLoad(apiUrl: string, connections: number, seconds: number, timeout: number, onResponse: OnResponse) {
  const run = autocannon({
    url: `${apiUrl}/trpc/cart.create`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: CART_CREATE_BODY,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout,
  });
  run.on("response", (_client, statusCode, _bytes, responseTimeMs) => onResponse(statusCode, responseTimeMs));
  const result = await run;
  return { errors: result.errors, timeouts: result.timeouts };
}

/** The same closed loop, except that a client answered 503 waits its Retry-After before the next request. */
async function retryAfterLoad(apiUrl: string, connections: number, seconds: number, timeout: number, onResponse: OnResponse) {
  const { hostname, port } = new URL(apiUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const end = new AbortController();
  // Every request in flight listens on it.
  setMaxListeners(connections + 10, end.signal);
  const deadline = performance.now() + seconds * 1000;
  let errors = 0;
  let timeouts = 0;
  const once = () =>
    new Promise<{ status: number; retryAfterMs: number } | null>((resolve) => {
      const started = performance.now();
      const req = http.request(
        {
          host: hostname,
          port,
          method: "POST",
          path: "/trpc/cart.create",
          agent,
          signal: end.signal,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(CART_CREATE_BODY) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            onResponse(status, performance.now() - started);
            resolve({ status, retryAfterMs: 1000 * (Number(res.headers["retry-after"]) || 1) });
          });
          res.on("error", () => resolve(null));
        },
      );
      req.setTimeout(timeout * 1000, () => {
        timeouts += 1;
        req.destroy(new Error("timeout"));
      });
      req.on("error", () => {
        // Requests cut off by the end of the window are not counted, as autocannon does not count them.
        if (!end.signal.aborted) errors += 1;
        resolve(null);
      });
      req.end(CART_CREATE_BODY);
    });
  const client = async () => {
    while (performance.now() < deadline) {
      const answer = await once();
      if (answer?.status === 503) await delay(Math.max(0, Math.min(answer.retryAfterMs, deadline - performance.now())));
    }
  };
  const timer = setTimeout(() => end.abort(), seconds * 1000);
  await Promise.all(Array.from({ length: connections }, client));
  clearTimeout(timer);
  end.abort();
  agent.destroy();
  return { errors, timeouts };
}

/**
 * Requests arriving at `rate` per second for `seconds`, whatever the answers; then the ones still out are awaited (up to
 * the client timeout). Latency counts from each request's scheduled arrival, so time spent waiting for a socket counts.
 */
async function openLoad(apiUrl: string, rate: number, seconds: number, timeout: number, maxSockets: number, onResponse: OnResponse) {
  const { hostname, port } = new URL(apiUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  let errors = 0;
  let timeouts = 0;
  const outstanding = new Set<Promise<void>>();
  const send = (scheduledAt: number) => {
    const done = new Promise<void>((resolve) => {
      const req = http.request(
        {
          host: hostname,
          port,
          method: "POST",
          path: "/trpc/cart.create",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(CART_CREATE_BODY) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            onResponse(res.statusCode ?? 0, performance.now() - scheduledAt);
            resolve();
          });
          res.on("error", () => resolve());
        },
      );
      // From the arrival, not from when a socket became free.
      const timer = setTimeout(
        () => {
          timeouts += 1;
          req.destroy(new Error("timeout"));
        },
        Math.max(1, timeout * 1000 - (performance.now() - scheduledAt)),
      );
      req.on("close", () => clearTimeout(timer));
      req.on("error", () => {
        errors += 1;
        resolve();
      });
      req.end(CART_CREATE_BODY);
    });
    outstanding.add(done);
    void done.then(() => outstanding.delete(done));
  };
  const started = performance.now();
  let sent = 0;
  const total = Math.round(rate * seconds);
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - started) / 1000) * rate));
    for (; sent < due; sent += 1) send(started + (1000 * sent) / rate);
    await delay(5);
  }
  while (outstanding.size > 0) await Promise.all([...outstanding]);
  agent.destroy();
  return { errors, timeouts };
}

export function offer(scenario: Scenario, apiUrl: string, config: OverloadConfig, seconds: number, openRate: number, onResponse: OnResponse) {
  if (scenario === "open") return openLoad(apiUrl, openRate, seconds, config.OVERLOAD_CLIENT_TIMEOUT, config.OVERLOAD_OPEN_MAX_SOCKETS, onResponse);
  const load = scenario === "instant" ? instantLoad : retryAfterLoad;
  return load(apiUrl, config.OVERLOAD_CONNECTIONS, seconds, config.OVERLOAD_CLIENT_TIMEOUT, onResponse);
}

/** The discarded warm-up before a setting's windows: the instant closed loop; what it got, by status code, and its errors. */
export async function warmUp(apiUrl: string, config: OverloadConfig): Promise<{ statusCodes: Record<string, number>; errors: number }> {
  const statusCodes: Record<string, number> = {};
  const result = await offer("instant", apiUrl, config, config.OVERLOAD_WARMUP, 0, (status) => (statusCodes[status] = (statusCodes[status] ?? 0) + 1));
  return { statusCodes, errors: result.errors };
}
