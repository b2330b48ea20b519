// --max-regression: what each entry means, and a one-line usage error naming what is wrong.
import { describe, expect, it } from "vitest";
import { CompareUsageError, DEFAULT_MAX_REGRESSION, formatLimit, parseMaxRegression } from "./regression-limits.ts";

describe("parseMaxRegression", () => {
  it("reads latency limits as a share of the baseline or milliseconds, and the error rate in percentage points", () => {
    expect(parseMaxRegression("p95=10%, p99=20% ,mean=2.5ms,error_rate=0.1")).toEqual([
      { metric: "p95", unit: "relative", max: 0.1 },
      { metric: "p99", unit: "relative", max: 0.2 },
      { metric: "mean", unit: "ms", max: 2.5 },
      { metric: "error_rate", unit: "points", max: 0.1 },
    ]);
  });

  it("takes the error rate's limit with or without % or pp, all meaning percentage points", () => {
    for (const spec of ["error_rate=0.5", "error_rate=0.5%", "error_rate=0.5pp"]) expect(parseMaxRegression(spec)).toEqual([{ metric: "error_rate", unit: "points", max: 0.5 }]);
  });

  it("knows median and p99.9 by those names too", () => {
    expect(parseMaxRegression("median=5%,p99.9=50%").map((l) => l.metric)).toEqual(["p50", "p999"]);
  });

  it("parses its own default", () => {
    expect(parseMaxRegression(DEFAULT_MAX_REGRESSION).map(formatLimit)).toEqual(["+10 %", "+20 %", "+0.1 pp"]);
  });

  it.each([
    ["", /is empty/],
    ["p95", /"p95" is not metric=limit/],
    ["p96=10%", /"p96" is not a metric compare knows \(p50, p75, p90, p95, p99, p999, mean, error_rate\)/],
    ["p95=10", /"p95=10" needs a unit for p95: a share of the baseline \(p95=10%\) or milliseconds \(p95=5ms\)/],
    ["p95=-5%", /"p95=-5%" needs a non-negative number for p95, got "-5"/],
    ["p95=abc%", /needs a non-negative number for p95, got "abc"/],
    ["error_rate=lots", /needs a non-negative number for error_rate/],
    ["p95=10%,p95=20%", /p95 is given twice/],
  ])("refuses %j with one line naming what is wrong", (spec, message) => {
    let error: unknown;
    try {
      parseMaxRegression(spec);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CompareUsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });
});
