// Builds the Script for `quick`: a burst of virtual users making a few requests each, or a constant arrival rate.
import { ScriptError } from "./script-types.ts";
import type { Script, Step } from "./script-types.ts";

type Method = Extract<Step, { kind: "request" }>["method"];

interface QuickRequest {
  url: string;
  /**
   * The error budget, in %: the run fails when more than this share of virtual users failed (Artillery's maxErrorRate)
   * or of responses were server errors (5xx). Default 0: a quick check passes only when every request was answered
   * and none with a 5xx.
   */
  maxErrorRate?: number;
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

/** `quick`'s verdict: failed virtual users and 5xx answers within the error budget (Artillery's quick judges neither). */
function quickEnsure(maxErrorRate: number): Script["ensure"] {
  if (!Number.isFinite(maxErrorRate) || maxErrorRate < 0 || maxErrorRate > 100) {
    throw new ScriptError(`must be a percentage from 0 to 100, got ${maxErrorRate}`, "--max-error-rate", null);
  }
  const serverErrors = maxErrorRate === 0 ? "http.codes.5xx == 0" : `http.codes.5xx <= http.responses * ${maxErrorRate / 100}`;
  return { thresholds: [], conditions: [{ expression: serverErrors, strict: true }], maxErrorRate };
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
    ensure: quickEnsure(options.maxErrorRate ?? 0),
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
