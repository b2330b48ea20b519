// The capacity plan: what `pnpm bench` measured of the checkout journey (docs/BENCHMARKS.md, "The checkout journey"),
// and the API tasks and database it implies for the rate the service promises. The autoscaling bounds
// (API_TASK_SIZE) and the production database's size are set from it, and stacks/test/capacity-plan.test.ts keeps
// them in agreement. Rerun the bench after changes to the request path and update MEASURED_JOURNEY from its report.
import { API_TASK_SIZE, apiContainerSizeOf, type ApiTaskSize } from "./api-task-size.ts";

/** The rate the service promises to carry, and the headroom kept above it (the load tester's plan uses the same). */
export const CAPACITY_TARGET = { requestsPerSecond: 10_000, headroom: 0.3 } as const;

/**
 * The journey's mix (tests/performance/checkout-journey.yml), CPU per request, from `pnpm bench` on 2026-12-03
 * (2-core machine, API pinned to a core of its own), one core of that machine per unit: the mean of two runs of the
 * same code, 0.451 / 0.324 ms and 0.574 / 0.395 ms (the machine's own speed moved by a quarter between them: raw
 * node:http 80k against 55–64k req/s). A Fargate vCPU is assumed to do a core's work; the autoscaling maximum keeps
 * room in case it does less.
 */
export const MEASURED_JOURNEY = { apiCpuMsPerRequest: 0.513, databaseCpuMsPerRequest: 0.36 } as const;

/** How far the autoscaling maximum stands above the planned task count (a slower vCPU, a heavier mix). */
export const TASK_MARGIN = 1.5;

/** API tasks of `size` for the target rate with headroom at this CPU per request, each process given the CPU its container reserves. */
export function apiTasksFor(apiCpuMsPerRequest: number, size: ApiTaskSize = API_TASK_SIZE): number {
  const vcpuPerProcess = apiContainerSizeOf(size).cpu / 1024 / size.apiProcessesPerTask;
  const perTask = (1000 / apiCpuMsPerRequest) * Math.min(vcpuPerProcess, 1) * size.apiProcessesPerTask;
  return Math.max(size.minTasks, Math.ceil((CAPACITY_TARGET.requestsPerSecond * (1 + CAPACITY_TARGET.headroom)) / perTask));
}

/** vCPUs of PostgreSQL the target rate with headroom needs at this database CPU per request. */
export function databaseVcpusFor(databaseCpuMsPerRequest: number): number {
  return (CAPACITY_TARGET.requestsPerSecond * (1 + CAPACITY_TARGET.headroom) * databaseCpuMsPerRequest) / 1000;
}

/** The plan's API tasks, at the measured cost. */
export function plannedApiTasks(): number {
  return apiTasksFor(MEASURED_JOURNEY.apiCpuMsPerRequest);
}

/** The plan's database vCPUs, at the measured cost. */
export function plannedDatabaseVcpus(): number {
  return databaseVcpusFor(MEASURED_JOURNEY.databaseCpuMsPerRequest);
}
