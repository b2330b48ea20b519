// Builds the Script for `quick`: a burst of virtual users making a few requests each, or a constant arrival rate.
import { ScriptError } from "./script-types.ts";
import type { Script, Step } from "./script-types.ts";

type Method = Extract<Step, { kind: "request" }>["method"];

interface QuickRequest {
  url: string;
  method?: Method;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Artillery's meaning: `count` virtual users arrive in the first second and each makes `num` requests. */
export type QuickBurst = QuickRequest & { count: number; num: number; rate?: undefined; duration?: undefined };

/** `rate` arrivals per second for `duration` seconds, one request each. */
export type QuickConstantRate = QuickRequest & { rate: number; duration: number; count?: undefined; num?: undefined };

export type QuickScriptOptions = QuickBurst | QuickConstantRate;

function requirePositive(value: number, option: string, isInteger: boolean): number {
  if (!Number.isFinite(value) || value <= 0 || (isInteger && !Number.isInteger(value))) {
    throw new ScriptError(`must be a positive ${isInteger ? "whole number" : "number"}, got ${value}`, option, null);
  }
  return value;
}

export function quickScript(options: QuickScriptOptions): Script {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new ScriptError(`"${options.url}" is not an absolute URL`, "url", null);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ScriptError(`"${options.url}" must be an http or https URL`, "url", null);

  const request: Step = { kind: "request", method: options.method ?? "GET", url: `${url.pathname}${url.search}` };
  if (options.body !== undefined) request.json = options.body;
  if (options.headers) request.headers = { ...options.headers };

  const base = {
    target: url.origin,
    http: { timeoutSeconds: 10 },
    defaults: { headers: {} },
    variables: {},
    payloads: [],
    ensure: { thresholds: [], conditions: [] },
  };

  if (options.rate !== undefined) {
    if (options.count !== undefined || options.num !== undefined) throw new ScriptError("give either --rate with --duration, or --count with --num", "--rate", null);
    return {
      ...base,
      phases: [{ duration: requirePositive(options.duration, "--duration", false), arrivalRate: requirePositive(options.rate, "--rate", false) }],
      scenarios: [{ weight: 1, flow: [request] }],
    };
  }
  const count = requirePositive(options.count, "--count", true);
  const num = requirePositive(options.num, "--num", true);
  return {
    ...base,
    phases: [{ duration: 1, arrivalCount: count }],
    scenarios: [{ weight: 1, flow: num === 1 ? [request] : [{ kind: "loop", count: num, steps: [request] }] }],
  };
}
