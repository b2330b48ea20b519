// `checkout-loadtest monitor URL`: flag parsing, the live status line, the final report and its exit code.
import { writeFileSync } from "node:fs";
import type { Probe } from "./availability.ts";
import { runMonitor, type MonitorOptions, type MonitorReport } from "./monitor.ts";

export class MonitorUsageError extends Error {}

/** "90", "90s", "15m", "2h" → seconds. */
export function parseDurationSeconds(value: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const amount = Number(match?.[1]);
  if (!match || !(amount > 0)) throw new MonitorUsageError(`${name} must be a positive duration like 30, 30s, 15m or 2h, got "${value}"`);
  const unit = match[2] ?? "s";
  return amount * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as "ms" | "s" | "m" | "h"];
}

function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(3)} %`;
const time = (ms: number) => new Date(ms).toISOString();

function reasonsOf(probe: Probe): string {
  return probe.checks
    .filter((c) => !c.isUp)
    .map((c) => `${c.reason ?? "down"} (${c.url})`)
    .join(", ");
}

export function formatReport(report: MonitorReport): string {
  const lines = [
    `monitored ${report.targets.join(" + ")} from ${time(report.startedAt)} to ${time(report.endedAt)} (${formatMs(report.windowMs)})`,
    `probes: ${report.probes}, up: ${report.upProbes}, down: ${report.probes - report.upProbes}`,
    `availability: ${percent(report.probeAvailability)} of probes, ${percent(report.timeAvailability)} of time`,
    report.outages.length === 0 ? "outages: none" : `outages: ${report.outages.length}`,
    ...report.outages.map((o) => `  ${time(o.start)} → ${o.isOngoing ? "still down at end" : time(o.end)}  ${formatMs(o.durationMs)}  ${o.reasons.join(" / ")}`),
    `downtime: ${formatMs(report.downtimeMs)}; budget at 99.99 % for this window: ${formatMs(report.budgetMs)}`,
    report.isWithinBudget ? "verdict: within budget" : "verdict: OVER budget",
  ];
  return lines.join("\n");
}

export async function executeMonitor(input: { url: string | undefined; interval?: string; duration?: string; deep?: string; timeout?: string; output?: string }): Promise<number> {
  if (!input.url) throw new MonitorUsageError("monitor needs a URL");
  const options: MonitorOptions = {
    url: input.url,
    deep: input.deep,
    intervalS: input.interval === undefined ? 5 : parseDurationSeconds(input.interval, "--interval"),
    durationS: input.duration === undefined ? undefined : parseDurationSeconds(input.duration, "--duration"),
    timeoutMs: input.timeout === undefined ? 2000 : parseDurationSeconds(`${input.timeout}ms`, "--timeout") * 1000,
  };
  const isTty = process.stderr.isTTY === true;
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  let probes = 0;
  let upProbes = 0;
  let wasUp: boolean | undefined;
  const report = await runMonitor(options, {
    signal: controller.signal,
    onProbe: (probe) => {
      probes++;
      if (probe.isUp) upProbes++;
      if (isTty) {
        const state = probe.isUp ? "UP  " : `DOWN ${reasonsOf(probe)}`;
        const latency = Math.max(...probe.checks.map((c) => c.latencyMs));
        process.stderr.write(`\r\x1b[2K${state}  ${latency.toFixed(0)} ms  probes ${probes}  up ${percent(upProbes / probes)}`);
      } else if (probe.isUp !== wasUp) {
        process.stderr.write(`${time(probe.at)} ${probe.isUp ? "UP" : `DOWN ${reasonsOf(probe)}`}\n`);
      }
      wasUp = probe.isUp;
    },
  });
  if (isTty) process.stderr.write("\n");
  if (input.output)
    writeFileSync(input.output, JSON.stringify({ options, targets: report.targets, startedAt: report.startedAt, endedAt: report.endedAt, probes: report.probeLog }, null, 2));
  console.log(formatReport(report));
  return report.isWithinBudget ? 0 : 1;
}
