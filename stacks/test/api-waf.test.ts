// The WAF and the API's body limit: the common rule set's 8 KB body rule only counts, so a payment webhook or an admin
// call between 8 KB and MAX_BODY_BYTES reaches the API; a request that declares more than MAX_BODY_BYTES is refused
// at the edge with 413, as the API would refuse it.
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../api-task-contract.ts";
import { decimalGreaterThanPattern } from "../api-waf.ts";
import { ofType, synthesize, type Json } from "./support.ts";

let rules: Json[];

beforeAll(async () => {
  rules = ofType((await synthesize()).resources("Api"), "AWS::WAFv2::WebACL")[0]![1].Rules;
});

/** Every statement in a rule, nested ones included. */
function statementsOf(statement: Json): Json[] {
  const nested = [
    ...(statement.AndStatement?.Statements ?? []),
    ...(statement.OrStatement?.Statements ?? []),
    ...(statement.NotStatement ? [statement.NotStatement.Statement] : []),
    ...(statement.RateBasedStatement?.ScopeDownStatement ? [statement.RateBasedStatement.ScopeDownStatement] : []),
  ];
  return [statement, ...nested.flatMap(statementsOf)];
}

describe("WAF body size", () => {
  it("counts, never blocks, the common rule set's SizeRestrictions_BODY (8 KB), and overrides nothing else", () => {
    const common = rules.find((r) => r.Name === "AWSManagedRulesCommonRuleSet")!;
    expect(common.OverrideAction).toEqual({ None: {} });
    expect(common.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual([{ Name: "SizeRestrictions_BODY", ActionToUse: { Count: {} } }]);
  });

  it("has no rule of its own that measures the body: WAF on an ALB sees only its first 8 KB, so such a rule would refuse every larger body", () => {
    const bodyRules = rules
      .flatMap((r) => statementsOf(r.Statement))
      .filter((s) => s.SizeConstraintStatement?.FieldToMatch?.Body || s.SizeConstraintStatement?.FieldToMatch?.JsonBody);
    expect(bodyRules).toEqual([]);
  });

  it("refuses with 413, before the managed rule groups, a request whose Content-Length is over MAX_BODY_BYTES", () => {
    const rule = rules.find((r) => r.Name === "BodyOverMaxBytes")!;
    const common = rules.find((r) => r.Name === "AWSManagedRulesCommonRuleSet")!;
    expect(rule.Priority).toBeLessThan(common.Priority);
    expect(rule.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 413 } } });
    expect(rule.Statement.RegexMatchStatement.FieldToMatch).toEqual({ SingleHeader: { Name: "content-length" } });
    expect(rule.Statement.RegexMatchStatement.RegexString).toBe(decimalGreaterThanPattern(MAX_BODY_BYTES));
    expect(MAX_BODY_BYTES).toBe(64 * 1024);
  });
});

describe("decimalGreaterThanPattern", () => {
  it("matches exactly the numbers above the limit, for MAX_BODY_BYTES and for limits with 0s and 9s in them", () => {
    for (const limit of [MAX_BODY_BYTES, 8192, 1000, 9999, 90909, 0, 7]) {
      const pattern = new RegExp(decimalGreaterThanPattern(limit));
      const samples = [0, 1, limit - 1, limit, limit + 1, limit + 2, limit * 2, limit * 10 + 3, 10 ** String(limit).length, 10 ** String(limit).length - 1, 123_456_789];
      for (let n = Math.max(0, limit - 300); n <= limit + 300; n++) samples.push(n);
      for (const n of samples.filter((n) => n >= 0)) expect(pattern.test(String(n)), `${n} against ${limit}`).toBe(n > limit);
    }
  });

  it("reads leading zeros as the number they spell, and matches nothing that is not a number", () => {
    const pattern = new RegExp(decimalGreaterThanPattern(MAX_BODY_BYTES));
    expect(pattern.test("0065537")).toBe(true);
    expect(pattern.test("0065536")).toBe(false);
    for (const text of ["", "65537 ", " 65537", "6553７", "1e9", "-70000", "70000,1", "abc"]) expect(pattern.test(text), JSON.stringify(text)).toBe(false);
  });
});
