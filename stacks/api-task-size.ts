// The size of one API task as the stacks deploy it on ECS Fargate; the load tester's capacity plan divides by it.
// It lives with the stacks (which never import package code); the load tester reads this one file by path.

/** One Fargate task running the API container. */
export interface ApiTaskSize {
  /** Fargate CPU units: 1024 = 1 vCPU. A Fargate-valid pair with `memoryMiB`. */
  cpu: number;
  /** Fargate memory in MiB. */
  memoryMiB: number;
  /** API server processes in the container. The server is one Node.js process (no cluster), so one per vCPU. */
  apiProcessesPerTask: number;
  /** Service autoscaling bounds: never fewer than `minTasks` (one per availability zone), never more than `maxTasks`. */
  minTasks: number;
  maxTasks: number;
}

/**
 * 1 vCPU and 2 GiB per task, one API process each, autoscaled from 2 to 12 tasks. The stacks build the task
 * definition and the scaling target from this object, and `checkout-loadtest plan` counts tasks in it, so the plan and
 * the deployment cannot drift apart. The maximum is the capacity plan's (stacks/capacity-plan.ts): 8 tasks carry
 * 10,000 req/s of the journey with 30 % headroom as measured, and 12 leaves half as much again; 12 × DB_POOL_MAX
 * connections stay far within the database's.
 */
export const API_TASK_SIZE = {
  cpu: 1024,
  memoryMiB: 2048,
  apiProcessesPerTask: 1,
  minTasks: 2,
  maxTasks: 12,
} as const satisfies ApiTaskSize;

/**
 * The tracing collector's share of each task (stacks/api-tracing.ts), carved out of API_TASK_SIZE rather than added to
 * it: the API container reserves the rest (`apiContainerSizeOf`) and may still use what the collector leaves idle.
 */
export const COLLECTOR_SIZE = { cpu: 128, memoryMiB: 256 } as const;

/** What the API container reserves: the task less the collector's share. */
export function apiContainerSizeOf(size: ApiTaskSize): { cpu: number; memoryMiB: number } {
  return { cpu: size.cpu - COLLECTOR_SIZE.cpu, memoryMiB: size.memoryMiB - COLLECTOR_SIZE.memoryMiB };
}

/** vCPUs of a task: Fargate counts 1024 CPU units per vCPU. */
export function vcpuOf(size: ApiTaskSize): number {
  return size.cpu / 1024;
}
