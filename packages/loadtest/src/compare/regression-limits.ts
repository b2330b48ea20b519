// `--max-regression p95=10%,p99=20%,error_rate=0.1`: how much worse each metric may get before `compare` fails.

export class CompareUsageError extends Error {}

export const LATENCY_METRICS = ["p50", "p75", "p90", "p95", "p99", "p999", "mean"] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];
export type CompareMetric = LatencyMetric | "error_rate";

/** The percentile (0–100) each percentile metric reads. */
export const PERCENTILES: Record<Exclude<LatencyMetric, "mean">, number> = { p50: 50, p75: 75, p90: 90, p95: 95, p99: 99, p999: 99.9 };

/**
 * A latency may grow by a share of the baseline (`relative`, 0.1 = 10 %) or by milliseconds (`absolute`); the error
 * rate by percentage points (`points`, 0.1 = from 1.0 % to 1.1 %).
 */
export type RegressionLimit =
  | { metric: LatencyMetric; unit: "relative"; max: number }
  | { metric: LatencyMetric; unit: "ms"; max: number }
  | { metric: "error_rate"; unit: "points"; max: number };

export const DEFAULT_MAX_REGRESSION = "p95=10%,p99=20%,error_rate=0.1";

const ALIASES: Record<string, CompareMetric> = { median: "p50", "p99.9": "p999" };
const KNOWN = [...LATENCY_METRICS, "error_rate"].join(", ");

function parseAmount(text: string, metric: string, entry: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new CompareUsageError(`--max-regression: "${entry}" needs a non-negative number for ${metric}, got "${text}"`);
  }
  return value;
}

/** Parses the spec; every mistake is a CompareUsageError naming the entry. */
export function parseMaxRegression(spec: string): RegressionLimit[] {
  const entries = spec
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new CompareUsageError(`--max-regression is empty: give e.g. ${DEFAULT_MAX_REGRESSION}`);
  const limits: RegressionLimit[] = [];
  for (const entry of entries) {
    const at = entry.indexOf("=");
    if (at < 1) throw new CompareUsageError(`--max-regression: "${entry}" is not metric=limit (e.g. p95=10%)`);
    const name = entry.slice(0, at).trim().toLowerCase();
    const value = entry
      .slice(at + 1)
      .trim()
      .toLowerCase();
    const metric = ALIASES[name] ?? (name as CompareMetric);
    if (metric !== "error_rate" && !(LATENCY_METRICS as readonly string[]).includes(metric)) {
      throw new CompareUsageError(`--max-regression: "${name}" is not a metric compare knows (${KNOWN})`);
    }
    if (limits.some((l) => l.metric === metric)) throw new CompareUsageError(`--max-regression: ${metric} is given twice`);
    if (metric === "error_rate") {
      // The error rate is itself a percentage, so its limit is in percentage points whichever way it is written.
      limits.push({ metric, unit: "points", max: parseAmount(value.replace(/(pp|%)$/, ""), metric, entry) });
    } else if (value.endsWith("%")) {
      limits.push({ metric, unit: "relative", max: parseAmount(value.slice(0, -1), metric, entry) / 100 });
    } else if (value.endsWith("ms")) {
      limits.push({ metric, unit: "ms", max: parseAmount(value.slice(0, -2), metric, entry) });
    } else {
      throw new CompareUsageError(`--max-regression: "${entry}" needs a unit for ${metric}: a share of the baseline (${metric}=10%) or milliseconds (${metric}=5ms)`);
    }
  }
  return limits;
}

/** A limit as the table shows it: +10 %, +5 ms, +0.1 pp. */
export function formatLimit(limit: RegressionLimit): string {
  const trim = (n: number) => String(Number(n.toPrecision(6)));
  switch (limit.unit) {
    case "relative":
      return `+${trim(limit.max * 100)} %`;
    case "ms":
      return `+${trim(limit.max)} ms`;
    default:
      return `+${trim(limit.max)} pp`;
  }
}
