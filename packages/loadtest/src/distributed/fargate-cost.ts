// What a distributed run's generators cost on Fargate, estimated before it starts: vCPU-hours and GB-hours at the
// us-east-1 on-demand Linux prices. An estimate only: other regions cost more, Spot and Savings Plans less, and it
// leaves out what the run also uses (S3 requests, CloudWatch logs, data transfer, public IPv4 addresses).

/** us-east-1 Fargate on-demand prices, USD (https://aws.amazon.com/fargate/pricing/); billed per second, one minute at least. */
export const FARGATE_PRICES = {
  region: "us-east-1",
  x86_64: { perVcpuHour: 0.04048, perGbHour: 0.004445 },
  arm64: { perVcpuHour: 0.03238, perGbHour: 0.00356 },
  minimumBilledSeconds: 60,
} as const;

/** The task sizes Fargate offers, in ECS CPU units (1024 = 1 vCPU). */
export const FARGATE_CPU_UNITS = [256, 512, 1024, 2048, 4096, 8192, 16384] as const;

export interface FargateCostInput {
  /** Generator tasks. */
  count: number;
  /** Each task's CPU in ECS CPU units, as in the task definition: 1024 = 1 vCPU. */
  cpu: number;
  memoryMiB: number;
  /** How long each task runs, ms: the start delay, the schedule and the drain after it. */
  durationMs: number;
  architecture?: "x86_64" | "arm64";
}

export interface FargateCostEstimate {
  count: number;
  vcpuPerTask: number;
  gbPerTask: number;
  /** Per task, after per-second rounding and the one-minute minimum. */
  billedSecondsPerTask: number;
  vcpuHours: number;
  gbHours: number;
  usd: number;
  architecture: "x86_64" | "arm64";
  region: string;
}

export function estimateFargateCost({ count, cpu, memoryMiB, durationMs, architecture = "x86_64" }: FargateCostInput): FargateCostEstimate {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a whole number of at least 1, got ${count}`);
  if (!(FARGATE_CPU_UNITS as readonly number[]).includes(cpu)) {
    throw new RangeError(`cpu is in ECS CPU units (1024 = 1 vCPU), one of ${FARGATE_CPU_UNITS.join(", ")}; got ${cpu}`);
  }
  if (!(Number.isFinite(memoryMiB) && memoryMiB > 0)) throw new RangeError(`memoryMiB must be a positive number, got ${memoryMiB}`);
  if (!(Number.isFinite(durationMs) && durationMs >= 0)) throw new RangeError(`durationMs must be a number of ms of at least 0, got ${durationMs}`);
  const prices = FARGATE_PRICES[architecture];
  const billedSecondsPerTask = Math.max(FARGATE_PRICES.minimumBilledSeconds, Math.ceil(durationMs / 1000));
  const vcpuPerTask = cpu / 1024;
  const gbPerTask = memoryMiB / 1024;
  const taskHours = (count * billedSecondsPerTask) / 3600;
  const vcpuHours = vcpuPerTask * taskHours;
  const gbHours = gbPerTask * taskHours;
  return {
    count,
    vcpuPerTask,
    gbPerTask,
    billedSecondsPerTask,
    vcpuHours,
    gbHours,
    usd: vcpuHours * prices.perVcpuHour + gbHours * prices.perGbHour,
    architecture,
    region: FARGATE_PRICES.region,
  };
}

/** One line for the operator before the generators start. */
export function formatFargateCost(estimate: FargateCostEstimate): string {
  const minutes = estimate.billedSecondsPerTask / 60;
  return (
    `estimated Fargate cost: ${estimate.count} task${estimate.count === 1 ? "" : "s"} × ${estimate.vcpuPerTask} vCPU / ${estimate.gbPerTask} GB × ${minutes.toFixed(1)} min = ` +
    `${estimate.vcpuHours.toFixed(3)} vCPU-h + ${estimate.gbHours.toFixed(3)} GB-h ≈ $${estimate.usd.toFixed(2)} ` +
    `(${estimate.region} on-demand ${estimate.architecture} prices; S3, logs and data transfer not included)`
  );
}
