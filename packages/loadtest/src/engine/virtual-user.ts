// One virtual user walking its scenario's flow: requests, captures, expected statuses, think times and loops.
import { evaluateJsonPath } from "../script/json-path.ts";
import { failureKey, responseCause } from "./failure-causes.ts";
import type { ResponseReceiver } from "./http-exchange.ts";
import type { PreparedRequest, PreparedScenario, PreparedStep } from "./prepared-script.ts";
import type { VuOutcome } from "./run-metrics.ts";
import type { RunState } from "./run-state.ts";

/** Maps a transport error to a short kind: the errno (ECONNREFUSED, ETIMEDOUT …) when there is one. */
function errorKind(error: unknown): string {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  if (typeof cause?.code === "string") return cause.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "EUNKNOWN";
}

/** A loop being repeated (its body is the user's current steps): the iterations left, and where its parent resumes. */
interface LoopFrame {
  iterationsLeft: number;
  parentSteps: PreparedStep[];
  parentIndex: number;
}

/**
 * A user walks its flow without promises: a request hands the user to the pool as its receiver, and the response (or
 * error) moves it on. `intendedMs` is when its next request is meant to go out.
 */
export class VirtualUser implements ResponseReceiver {
  private steps: PreparedStep[];
  private index = 0;
  private loops: LoopFrame[] | null = null;
  private current: PreparedRequest | null = null;
  private sentMs = 0;
  private isEnded = false;

  constructor(
    private readonly state: RunState,
    private readonly scenario: PreparedScenario,
    private readonly vars: Record<string, unknown>,
    private intendedMs: number,
  ) {
    this.steps = scenario.flow;
  }

  /** Runs steps until a request is in flight, a think time is pending, or the flow ends. */
  run(): void {
    try {
      for (;;) {
        if (this.state.isAborted) {
          this.end("aborted");
          return;
        }
        if (this.index >= this.steps.length) {
          const loop = this.loops?.at(-1);
          if (!loop) {
            this.end("completed");
            return;
          }
          if (--loop.iterationsLeft > 0) {
            this.index = 0;
            continue;
          }
          this.loops?.pop();
          this.steps = loop.parentSteps;
          this.index = loop.parentIndex;
          continue;
        }
        const step = this.steps[this.index++]!;
        if (step.kind === "request") {
          this.send(step);
          return;
        }
        if (step.kind === "think") {
          this.intendedMs += step.ms;
          const waitMs = this.intendedMs - this.state.now();
          if (waitMs > 0) {
            setTimeout(() => this.run(), waitMs);
            return;
          }
        } else if (step.count > 0) {
          this.loops ??= [];
          this.loops.push({ iterationsLeft: step.count, parentSteps: this.steps, parentIndex: this.index });
          this.steps = step.steps;
          this.index = 0;
        }
      }
    } catch {
      this.crash();
    }
  }

  /** Sends the request, or fails the user when its values cannot make one. */
  private send(prepared: PreparedRequest): void {
    this.current = prepared;
    const encoded = this.state.script.encodeFor(prepared, this.vars);
    if (typeof encoded === "string") {
      this.state.metrics.countVuserError(encoded);
      this.fail(encoded);
      return;
    }
    this.sentMs = this.state.now();
    this.state.metrics.recordRequest(this.sentMs);
    encoded.pool.send(encoded.request, prepared.captures.length > 0, this);
  }

  onResponse(status: number, text: string | undefined): void {
    try {
      const { metrics } = this.state;
      const prepared = this.current!;
      const endMs = this.state.now();
      const interval = metrics.recordResponse(status, this.intendedMs, this.sentMs, endMs, prepared.endpointHistogram);
      if (prepared.expectStatus && !prepared.expectStatus.includes(status)) {
        metrics.recordUnexpectedStatus(interval);
        this.fail(responseCause(status, text));
        return;
      }
      if (status >= 500) metrics.recordServerError(interval);
      for (const capture of prepared.captures) {
        let document: unknown;
        try {
          document = JSON.parse(text ?? "");
        } catch {
          metrics.countVuserError("ECAPTURE");
          this.fail(`${responseCause(status, text)} ECAPTURE`);
          return;
        }
        const found = evaluateJsonPath(capture.path, document);
        if (!found.found) {
          metrics.countVuserError("ECAPTURE");
          this.fail(`${responseCause(status, text)} ECAPTURE`);
          return;
        }
        this.vars[capture.as] = found.value;
        metrics.recordCapture(capture.as, found.value);
      }
      this.intendedMs = endMs;
    } catch {
      this.crash();
      return;
    }
    this.run();
  }

  onError(error: Error): void {
    const kind = errorKind(error);
    this.state.metrics.recordTransportError(kind, this.state.now());
    this.fail(kind);
  }

  /** Ends the user as failed, its cause counted once: at the request it was on (or its scenario, before any). */
  private fail(cause: string): void {
    if (this.isEnded) return;
    this.state.metrics.recordFailure(failureKey(this.current?.site ?? this.scenario.name, cause));
    this.end("failed");
  }

  private end(outcome: VuOutcome): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.state.userEnded(outcome);
  }

  /** A bug of ours, not the target's: the user fails with EINTERNAL rather than taking the run down. */
  private crash(): void {
    if (this.isEnded) return;
    this.state.metrics.countVuserError("EINTERNAL");
    this.fail("EINTERNAL");
  }
}
