// Test support: a synthetic run judged by the real judges (evaluateEnsure on the script's ensure, invariantVerdicts on
// an admin.invariants report), saved as `run --output` saves it, for the CI outputs' tests.
import { evaluateEnsure } from "../engine/ensure.ts";
import { invariantVerdicts } from "../invariants/invariants-step.ts";
import type { InvariantReport } from "../invariants/invariants-client.ts";
import { syntheticRun } from "../compare/synthetic-run.ts";
import type { SavedRun } from "../report/saved-run.ts";
import type { Ensure } from "../script/script-types.ts";

/** Thresholds, a strict and an optional condition: the p95 limit (ms) decides whether the run passes. */
export function ensureWith(p95LimitMs: number): Ensure {
  return {
    thresholds: [{ metric: "http.response_time.p95", max: p95LimitMs }],
    conditions: [
      { expression: "http.response_time.p99 < 10000", strict: true },
      // Never holds: reported, never fails the run.
      { expression: "http.response_time.p50 < 0.001", strict: false },
    ],
    maxErrorRate: 1,
  };
}

export function invariantReport({ duplicateCharges = 0 }: { duplicateCharges?: number } = {}): InvariantReport {
  return {
    checkedAt: "2026-11-24T10:00:00.000Z",
    passed: duplicateCharges === 0,
    checks: [
      { invariant: "stock", passed: true, violations: 0, byKind: {} },
      { invariant: "charges", passed: duplicateCharges === 0, violations: duplicateCharges, byKind: duplicateCharges ? { duplicate_charge: duplicateCharges } : {} },
    ],
    violations: Array.from({ length: duplicateCharges }, (_, i) => ({
      invariant: "charges",
      kind: "duplicate_charge",
      subject: String(100001 + i),
      detail: `order ${100001 + i} has 2 charges; expected at most one`,
    })),
    stock: { skus: 40, unitsReceived: 2000, unitsAvailable: 1990, unitsHeld: 10 },
    orders: { total: 11, byStatus: { captured: 10, payment_failed: 1 } },
    charges: { total: 10, authorised: 0, captured: 10 },
  };
}

/**
 * A 20-second run (p95 about 45 ms) judged against `ensureWith(p95LimitMs)` and an invariants report: a limit of
 * 1000 ms passes, 5 ms fails; duplicate charges fail the invariants.
 */
export function judgedRun({ p95LimitMs = 1000, duplicateCharges = 0 }: { p95LimitMs?: number; duplicateCharges?: number } = {}): SavedRun {
  const result = syntheticRun({ seed: 7, intervals: 20, requestsPerInterval: 50, medianMs: 20 });
  const ensure = ensureWith(p95LimitMs);
  const report = evaluateEnsure({ ensure, result });
  return { ...result, ensure, verdicts: [...report.verdicts, ...invariantVerdicts(invariantReport({ duplicateCharges }))] };
}
