// The load-test script model: what an Artillery-v2-style YAML script means once parsed and checked.
// The parser produces it; the engine runs it. Times are in seconds as in Artillery, unless named *Ms.

export interface Phase {
  name?: string;
  /** Seconds. */
  duration: number;
  /** New virtual users per second at the phase start (and throughout, without rampTo). */
  arrivalRate?: number;
  /** Linear ramp of the arrival rate from arrivalRate to rampTo over the phase. */
  rampTo?: number;
  /** A fixed number of arrivals spread evenly over the phase (instead of a rate). */
  arrivalCount?: number;
  /** At most this many virtual users alive at once in this phase; arrivals beyond it are dropped. */
  maxVusers?: number;
}

export interface Capture {
  /** A JSON path such as `$.result.data.id`. */
  json: string;
  as: string;
}

export type Step =
  | {
      kind: "request";
      method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
      url: string;
      json?: unknown;
      qs?: Record<string, unknown>;
      headers?: Record<string, string>;
      capture?: Capture[];
      /** Acceptable status codes; a response outside them fails the virtual user. */
      expectStatus?: number[];
    }
  | { kind: "think"; seconds: number }
  | { kind: "loop"; count: number; steps: Step[] };

export interface Scenario {
  name?: string;
  weight: number;
  flow: Step[];
}

export interface Payload {
  path: string;
  fields: string[];
  order: "random" | "sequence";
  skipHeader: boolean;
  /** The CSV rows, read when the script is loaded. */
  rows: string[][];
}

export interface Threshold {
  /** An Artillery metric name, e.g. `http.response_time.p95`, or ours, e.g. `http.request_error_rate`. */
  metric: string;
  max: number;
}

export interface Condition {
  expression: string;
  strict: boolean;
}

export interface Ensure {
  thresholds: Threshold[];
  conditions: Condition[];
  /** Artillery's maxErrorRate: percentage of failed virtual users. */
  maxErrorRate?: number;
}

/** config.plugins.checkout-invariants: after the load, ask the service's admin API whether its invariants hold. */
export interface InvariantsPlugin {
  /** The environment variable holding the admin bearer token; the token itself never goes in a script. */
  adminTokenEnv: string;
  /**
   * A variable some step captures the order number into (e.g. `orderNumber` from placeOrder's answer): every value
   * captured in the run is sent to the service after the load, which confirms each order exists exactly once.
   */
  acknowledgedOrders?: string;
}

export interface Script {
  target: string;
  phases: Phase[];
  http: { timeoutSeconds: number };
  defaults: { headers: Record<string, string> };
  variables: Record<string, unknown[]>;
  payloads: Payload[];
  ensure: Ensure;
  scenarios: Scenario[];
  /** Post-run invariant checks, when the script opts in. */
  invariants?: InvariantsPlugin;
}

/** A script that cannot be run: names the key and where it is. */
export class ScriptError extends Error {
  override readonly name = "ScriptError";
  constructor(
    message: string,
    readonly path: string,
    readonly line: number | null,
  ) {
    super(line === null ? `${path}: ${message}` : `${path} (line ${line}): ${message}`);
  }
}
