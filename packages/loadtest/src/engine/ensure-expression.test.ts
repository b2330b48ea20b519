// The condition language of ensure (filtrex syntax, as Artillery uses it): precedence, names, errors.
import { describe, expect, it } from "vitest";
import { compileCondition, ExpressionError } from "./ensure-expression.ts";

const metrics: Record<string, number> = { "http.response_time.p95": 120, "http.requests": 1000, "vusers.failed": 3, "errors.Failed capture or match": 2 };
const evaluate = (expression: string) => compileCondition(expression).evaluate((name) => metrics[name]);

describe("compileCondition", () => {
  it.each([
    ["http.response_time.p95 < 200", 1],
    ["http.response_time.p95 < 100", 0],
    ["http.response_time.p95 < 200 and vusers.failed == 0", 0],
    ["http.response_time.p95 < 200 and not vusers.failed == 0", 1],
    ["vusers.failed == 0 or http.requests >= 1000", 1],
    ["vusers.failed / http.requests * 100 <= 0.3", 1],
    ["1 + 2 * 3 ^ 2 == 19", 1],
    ["-(2 - 5) == 3 and 7 % 4 == 3", 1],
    ["vusers.failed in (1, 2, 3)", 1],
    ["vusers.failed not in (1, 2, 3)", 0],
    ["vusers.failed > 0 ? http.requests > 500 : 0", 1],
    ["max(vusers.failed, 10) == 10 and round(2.6) == 3 and abs(-4) == 4", 1],
    ["'errors.Failed capture or match' == 2", 1],
  ])("%s → %d", (expression, expected) => {
    expect(evaluate(expression)).toEqual({ value: expected, missing: [] });
  });

  it("lists the metric names it reads, not its functions", () => {
    expect(compileCondition("max(vusers.failed, 1) < http.requests").names).toEqual(["vusers.failed", "http.requests"]);
  });

  it("reports names the run does not have and evaluates to false", () => {
    expect(evaluate("http.codes.599 == 0 or http.requests > 0")).toEqual({ value: 0, missing: ["http.codes.599"] });
  });

  it.each([
    ["http.requests <", /ends too early/],
    ["http.requests < 5 5", /after the end/],
    ["(http.requests < 5", /expected "\)"/],
    ["http.requests & 5", /unexpected "&" at column 15/],
    ["'unterminated < 5", /unterminated quoted name/],
  ])("refuses %s with a message saying what is wrong", (expression, message) => {
    expect(() => compileCondition(expression)).toThrow(ExpressionError);
    expect(() => compileCondition(expression)).toThrow(message);
  });
});
