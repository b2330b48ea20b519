// Prometheus metrics kept in plain counters: request counts, duration histograms and errors by procedure.

const BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Series {
  count: number;
  sum: number;
  buckets: number[];
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export class Metrics {
  private readonly durations = new Map<string, Series>();
  private readonly requests = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private inFlight = 0;
  private readonly startedAt = Date.now();

  requestStarted(): void {
    this.inFlight += 1;
  }

  /** Records one finished request. `route` must come from a closed set, never raw user input. */
  requestFinished(route: string, method: string, status: number, seconds: number): void {
    this.inFlight -= 1;
    const requestKey = `route="${escapeLabel(route)}",method="${method}",status="${status}"`;
    this.requests.set(requestKey, (this.requests.get(requestKey) ?? 0) + 1);
    if (status >= 400) {
      const errorKey = `route="${escapeLabel(route)}",class="${status >= 500 ? "5xx" : "4xx"}"`;
      this.errors.set(errorKey, (this.errors.get(errorKey) ?? 0) + 1);
    }
    const durationKey = `route="${escapeLabel(route)}"`;
    let series = this.durations.get(durationKey);
    if (!series) {
      series = { count: 0, sum: 0, buckets: BUCKETS_SECONDS.map(() => 0) };
      this.durations.set(durationKey, series);
    }
    series.count += 1;
    series.sum += seconds;
    for (let i = 0; i < BUCKETS_SECONDS.length; i++) {
      if (seconds <= (BUCKETS_SECONDS[i] ?? Infinity)) series.buckets[i] = (series.buckets[i] ?? 0) + 1;
    }
  }

  render(): string {
    const lines: string[] = [];
    lines.push("# HELP http_requests_total HTTP requests served, by route, method and status.");
    lines.push("# TYPE http_requests_total counter");
    for (const [labels, value] of this.requests) lines.push(`http_requests_total{${labels}} ${value}`);
    lines.push("# HELP http_request_errors_total HTTP requests answered with a 4xx or 5xx status, by route and class.");
    lines.push("# TYPE http_request_errors_total counter");
    for (const [labels, value] of this.errors) lines.push(`http_request_errors_total{${labels}} ${value}`);
    lines.push("# HELP http_request_duration_seconds Time from request received to response finished.");
    lines.push("# TYPE http_request_duration_seconds histogram");
    for (const [labels, series] of this.durations) {
      for (const [i, bound] of BUCKETS_SECONDS.entries()) lines.push(`http_request_duration_seconds_bucket{${labels},le="${bound}"} ${series.buckets[i] ?? 0}`);
      lines.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${series.count}`);
      lines.push(`http_request_duration_seconds_sum{${labels}} ${series.sum}`);
      lines.push(`http_request_duration_seconds_count{${labels}} ${series.count}`);
    }
    lines.push("# HELP http_requests_in_flight Requests being handled right now.");
    lines.push("# TYPE http_requests_in_flight gauge");
    lines.push(`http_requests_in_flight ${this.inFlight}`);
    lines.push("# HELP process_uptime_seconds Seconds since the server started.");
    lines.push("# TYPE process_uptime_seconds gauge");
    lines.push(`process_uptime_seconds ${(Date.now() - this.startedAt) / 1000}`);
    const memory = process.memoryUsage();
    lines.push("# HELP process_resident_memory_bytes Resident memory size in bytes.");
    lines.push("# TYPE process_resident_memory_bytes gauge");
    lines.push(`process_resident_memory_bytes ${memory.rss}`);
    lines.push(
      "# HELP payment_attempts_total placeOrder payment attempts, by how they ended (authorized, requires_action, declined, refused_velocity, token_rejected, unavailable, failed).",
    );
    lines.push("# TYPE payment_attempts_total counter");
    for (const [outcome, value] of this.paymentAttempts) lines.push(`payment_attempts_total{outcome="${escapeLabel(outcome)}"} ${value}`);
    return `${lines.join("\n")}\n`;
  }

  private readonly paymentAttempts = new Map<string, number>();

  /** Counts one payment attempt by how it ended; `outcome` comes from core's closed set, never from input. */
  paymentAttempt(outcome: string): void {
    this.paymentAttempts.set(outcome, (this.paymentAttempts.get(outcome) ?? 0) + 1);
  }
}
