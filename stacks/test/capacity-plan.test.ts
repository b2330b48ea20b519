// The capacity plan and what the stacks deploy agree: enough API tasks and database for the promised rate with
// headroom, at the measured cost per request, and no more connections than the database takes.
import { describe, expect, it } from "vitest";
import { API_TASK_SIZE } from "../api-task-size.ts";
import { CAPACITY_TARGET, MEASURED_JOURNEY, plannedApiTasks, plannedDatabaseVcpus, TASK_MARGIN } from "../capacity-plan.ts";
import { M7G_VCPUS, PRODUCTION_DATABASE_SIZE } from "../Database.ts";

/** The API's default pool per process (DB_POOL_MAX in packages/api/src/env.ts). */
const DB_POOL_MAX = 10;
/** RDS PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000); m7g has 4 GiB per vCPU. */
const rdsMaxConnections = (vcpus: number) => Math.min(Math.floor((vcpus * 4 * 1024 ** 3) / 9_531_392), 5000);

describe("the capacity plan", () => {
  it("plans the tasks for the promised rate from the measured CPU per request", () => {
    // 10,000 req/s × 1.3 at 0.513 ms per request, each task's API given 0.875 vCPU: 7.6, so 8 tasks.
    expect(CAPACITY_TARGET).toEqual({ requestsPerSecond: 10_000, headroom: 0.3 });
    expect(MEASURED_JOURNEY.apiCpuMsPerRequest).toBe(0.513);
    expect(plannedApiTasks()).toBe(8);
  });

  it("lets autoscaling reach the planned tasks with margin, and no further than the margin", () => {
    expect(API_TASK_SIZE.maxTasks).toBeGreaterThanOrEqual(Math.ceil(plannedApiTasks() * TASK_MARGIN));
    expect(API_TASK_SIZE.maxTasks).toBeLessThanOrEqual(Math.ceil(plannedApiTasks() * TASK_MARGIN) + 1);
  });

  it("sizes the production database for the promised rate with headroom", () => {
    const vcpus = M7G_VCPUS[PRODUCTION_DATABASE_SIZE];
    expect(vcpus).toBeDefined();
    expect(vcpus).toBeGreaterThanOrEqual(plannedDatabaseVcpus());
    expect(plannedDatabaseVcpus()).toBeCloseTo(4.68, 2);
  });

  it("keeps every task's pool, blue and green together during a deployment, within the database's connections", () => {
    const connections = 2 * API_TASK_SIZE.maxTasks * API_TASK_SIZE.apiProcessesPerTask * DB_POOL_MAX;
    expect(connections).toBeLessThan(rdsMaxConnections(M7G_VCPUS[PRODUCTION_DATABASE_SIZE] ?? 0));
  });
});
