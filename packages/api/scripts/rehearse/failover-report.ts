// What the failover drill reports and how it is judged: the report's shape, requests counted by how they ended, and
// the verdict shared by the test and `pnpm drill:failover`.
import type { TargetGroupHealthCheck } from "../../../../stacks/health-check.ts";
import type { Slot } from "./haproxy.ts";
import type { ShopperRequest } from "./probe-shopper.ts";

/**
 * How the database goes away. "stop": PostgreSQL itself is stopped (fast shutdown: sessions terminated, connections
 * then refused) and started again. "unreachable": PostgreSQL keeps running behind a relay that cuts every connection and
 * answers no new one, as when a failover has moved the endpoint and the old host is gone.
 */
export type DatabaseFault = "stop" | "unreachable";

export interface ServerReport {
  slot: Slot;
  /** Every status HAProxy's stats showed for this server, polled each second from start to end, in order, repeats folded. */
  statusesSeen: string[];
  /** HAProxy's counters: checks failed (chkfail) and UP → DOWN transitions (chkdown). */
  checksFailed: number;
  timesDown: number;
  /**
   * Health checks the process answered while the database was gone (its own /metrics), and how many were not 200 (ever).
   * With a /ready check these include the drill's own once-a-second /ready polls.
   */
  healthChecksDuringOutage: number;
  healthChecksNot200: number;
  /** The process's own /ready (not through the balancer), polled each second while the database was stopped. */
  readyDuringOutage: Record<string, number>;
  /** Whether the process was still running at the end (never restarted). */
  isRunningAtEnd: boolean;
  /** Log lines at error level or worse, by message. */
  errorLogs: Record<string, number>;
}

/** Requests counted by how they ended: "200", "503 SERVICE_UNAVAILABLE retry-after 1", "timeout", "connection". */
export type Outcomes = Record<string, number>;

export interface FailoverDrillReport {
  healthCheck: TargetGroupHealthCheck;
  shoppers: number;
  /** seconds: from the database gone (stopped, or cut off) to it back (accepting connections, or relayed again). */
  outage: { fault: DatabaseFault; requestedSeconds: number; seconds: number; stopMs: number; restartMs: number };
  servers: ServerReport[];
  requests: {
    beforeOutage: Outcomes;
    /** Requests that started after PostgreSQL had stopped and before it was started again. */
    duringOutage: Outcomes;
    afterOutage: Outcomes;
    /** Every request that ended without an answer: no response in requestTimeoutMs, or no connection. */
    timeouts: number;
    connectionErrors: number;
    /** 503s whose body was not the typed tRPC error (appCode SERVICE_UNAVAILABLE, httpStatus 503) or lacked Retry-After. */
    untyped503s: number;
    slowestDuringOutageMs: number;
  };
  recovery: {
    /** From PostgreSQL accepting connections again to the first order placed through the balancer. */
    firstOrderMs: number | null;
    /** From PostgreSQL accepting connections again to each process's /ready answering 200 (by slot). */
    readyMs: Partial<Record<Slot, number>>;
    ordersAfterRestart: number;
  };
  orders: { acknowledged: number; beforeOutage: number };
  invariants: {
    /** admin.invariants over every acknowledged order: stock, charges, each order exactly once. */
    passed: boolean;
    violations: unknown[];
    byStatus: Record<string, number>;
    /** Orders without lines, and authorised-or-later orders without their order.placed event (written in one transaction). */
    ordersWithoutLines: number;
    paidOrdersWithoutEvent: number;
  };
}

/** How one request ended: "200", "503 SERVICE_UNAVAILABLE retry-after 1", "timeout" or "connection". */
export function outcomeOf(request: ShopperRequest): string {
  if (request.error) return request.error;
  if (request.status < 300) return String(request.status);
  return `${request.status} ${request.appCode ?? "untyped"} retry-after ${request.retryAfter ?? "none"}`;
}

export function countOutcomes(requests: ShopperRequest[]): Outcomes {
  const counts: Outcomes = {};
  for (const request of requests) counts[outcomeOf(request)] = (counts[outcomeOf(request)] ?? 0) + 1;
  return counts;
}

/** The drill's verdict: no server taken out, every request in the outage a fast typed 503, recovered, invariants intact. */
export function failoverDrillProblems(report: FailoverDrillReport): string[] {
  const problems: string[] = [];
  for (const s of report.servers) {
    if (s.statusesSeen.some((status) => status !== "UP") || s.timesDown > 0 || s.checksFailed > 0) {
      problems.push(`haproxy took ${s.slot} out or failed its checks: statuses ${s.statusesSeen.join(" → ")}, ${s.checksFailed} failed checks, ${s.timesDown} times DOWN`);
    }
    if (s.healthChecksDuringOutage < report.healthCheck.unhealthyThreshold) {
      problems.push(
        `${s.slot} answered ${s.healthChecksDuringOutage} health checks during the outage: fewer than the ${report.healthCheck.unhealthyThreshold} that would take it out`,
      );
    }
    if (!s.isRunningAtEnd) problems.push(`${s.slot} exited during the drill`);
  }
  const r = report.requests;
  const duringOther = Object.entries(r.duringOutage).filter(([outcome]) => outcome !== "503 SERVICE_UNAVAILABLE retry-after 1");
  if (duringOther.length > 0)
    problems.push(`requests during the outage answered other than 503 SERVICE_UNAVAILABLE + Retry-After: ${JSON.stringify(Object.fromEntries(duringOther))}`);
  if (!r.duringOutage["503 SERVICE_UNAVAILABLE retry-after 1"]) problems.push("no request was made during the outage");
  if (r.timeouts > 0 || r.connectionErrors > 0) problems.push(`${r.timeouts} requests timed out and ${r.connectionErrors} got no connection`);
  if (r.untyped503s > 0) problems.push(`${r.untyped503s} 503s without the typed body or Retry-After`);
  if (report.recovery.ordersAfterRestart < report.shoppers * 2) problems.push(`only ${report.recovery.ordersAfterRestart} orders placed after PostgreSQL came back`);
  const i = report.invariants;
  if (!i.passed || i.ordersWithoutLines > 0 || i.paidOrdersWithoutEvent > 0) problems.push(`invariants: ${JSON.stringify(i)}`);
  return problems;
}
