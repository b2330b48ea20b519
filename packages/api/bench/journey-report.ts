// The journey section of docs/BENCHMARKS.md: CPU per request by procedure, the journey's weighted cost, the tasks it
// implies for 10,000 req/s at the deployed task size, and placeOrder against pgbench's TPC-B on the same server.
import { API_TASK_SIZE, apiContainerSizeOf, vcpuOf } from "../../../stacks/api-task-size.ts";
import { apiTasksFor, CAPACITY_TARGET, databaseVcpusFor } from "../../../stacks/capacity-plan.ts";
import { requestsPerArrival } from "./journey-at-rate.ts";
import type { JourneyBench } from "./journey-run.ts";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** The vCPU the API container reserves in a task: the task less the tracing collector's share. */
const API_VCPU_PER_TASK = apiContainerSizeOf(API_TASK_SIZE).cpu / 1024;

export function renderJourney(bench: JourneyBench): string {
  const { journey } = bench;
  const ms = (value: number | null) => (value === null ? "n/a" : value.toFixed(3));
  const rows = journey.procedures.map(
    (cost) =>
      `| \`${cost.procedure}\` | ${(100 * cost.shareOfJourney).toFixed(1)} % | ${integer.format(cost.calls)} | ${ms(cost.apiCpuMs)} | ${ms(cost.databaseCpuMs)} | ${integer.format(Math.round(cost.callsPerSecond))} |`,
  );
  const tasks = apiTasksFor(journey.apiCpuMsPerRequest);
  const databaseVcpus = journey.databaseCpuMsPerRequest === null ? null : databaseVcpusFor(journey.databaseCpuMsPerRequest);
  const tpcb = "missing" in bench.tpcb ? null : bench.tpcb;
  const { atRate } = bench;
  const verdict =
    atRate.exitCode === 0 ? "its thresholds and the shop's invariants held" : `exit ${atRate.exitCode}, failed: ${atRate.failures.join("; ") || "see the bench's output"}`;
  const placeOrderRatio = tpcb && tpcb.tps > 0 ? journey.placeOrderPerSecond / tpcb.tps : null;
  return `## The checkout journey: CPU per request by procedure (same run)

${bench.pinning}. The journey's shoppers (\`tests/performance/checkout-journey.yml\`'s scenarios and weights) are played
step by step: ${integer.format(journey.shoppers)} shoppers take each step, ${journey.concurrency} at a time, and the API's and
PostgreSQL's CPU over the step, divided by its calls, is that procedure's cost (cheap reads are repeated for a longer
window). The payment sandbox tokenises cards between the steps and answers placeOrder's authorisations from its own
process. Background jobs are off in the measured API (\`JOBS=off\`): the reconciler, outbox and hold sweeps are not
per request.

| Procedure | Share of the journey's requests | Calls | API CPU per call (ms) | PostgreSQL CPU per call (ms) | Calls/s in the step |
|---|--:|--:|--:|--:|--:|
${rows.join("\n")}
| **Journey, weighted** | 100 % | | **${ms(journey.apiCpuMsPerRequest)}** | **${ms(journey.databaseCpuMsPerRequest)}** | |

- One API process with a whole core of this machine serves **${integer.format(Math.round(journey.requestsPerSecondPerCore))} req/s** of the
  journey's mix (1000 / API CPU per request). At the deployed task size (${vcpuOf(API_TASK_SIZE)} vCPU, of which the API container
  reserves ${API_VCPU_PER_TASK}; ${API_TASK_SIZE.apiProcessesPerTask} API process), ${integer.format(CAPACITY_TARGET.requestsPerSecond)} req/s with ${100 * CAPACITY_TARGET.headroom} % headroom needs
  **${tasks} tasks** (autoscaling bounds ${API_TASK_SIZE.minTasks}–${API_TASK_SIZE.maxTasks}), if a Fargate vCPU does this machine's core's work;
  PostgreSQL then needs ${databaseVcpus === null ? "(not measured)" : `**${databaseVcpus.toFixed(1)} vCPU**`} for writes and reads. \`stacks/capacity-plan.ts\` holds the figures the
  stacks are sized from: update it from this section.
- Interleaved, as shoppers really arrive: the load tester played the journey at ${Math.round(100 * atRate.share)} % of that rate
  (${atRate.arrivalsPerSecond} arrivals/s × ${requestsPerArrival().toFixed(1)} requests each ≈ ${integer.format(Math.round(atRate.arrivalsPerSecond * requestsPerArrival()))} req/s, ${atRate.seconds} s, open model), ${integer.format(atRate.requests)} requests
  (the card-token calls to the sandbox among them): latency from each request's intended start p50 ${atRate.latencyMs.p50.toFixed(1)} ms,
  p95 ${atRate.latencyMs.p95.toFixed(1)} ms, **p99 ${atRate.latencyMs.p99.toFixed(1)} ms**, max ${atRate.latencyMs.max.toFixed(1)} ms; API CPU
  ${atRate.apiCpuMsPerRequest === null ? "n/a" : `${atRate.apiCpuMsPerRequest.toFixed(3)} ms`} per request; the load tester's verdict: ${verdict}.
- The write path's ceiling: placeOrder, ${journey.concurrency} shoppers at a time, ${integer.format(Math.round(journey.placeOrderPerSecond))} orders/s;
  ${tpcb ? `\`${tpcb.command}\` on the same server: ${integer.format(Math.round(tpcb.tps))} tps → placeOrder **${placeOrderRatio?.toFixed(2)}×** TPC-B` : `TPC-B not measured: ${"missing" in bench.tpcb ? bench.tpcb.missing : ""}`}.
`;
}
