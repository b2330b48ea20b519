import { describe, expect, it } from "vitest";
import { quickScript } from "./quick-script.ts";
import { ScriptError } from "./script-types.ts";

describe("quickScript", () => {
  it("sends count virtual users in the first second, each looping num requests", () => {
    const script = quickScript({ url: "http://localhost:3000/api/health?deep=1", count: 20, num: 5 });
    expect(script.target).toBe("http://localhost:3000");
    expect(script.phases).toEqual([{ duration: 1, arrivalCount: 20 }]);
    expect(script.scenarios).toEqual([{ weight: 1, flow: [{ kind: "loop", count: 5, steps: [{ kind: "request", method: "GET", url: "/api/health?deep=1" }] }] }]);
    expect(script.http).toEqual({ timeoutSeconds: 10 });
    expect(script.ensure).toEqual({ thresholds: [], conditions: [{ expression: "http.codes.5xx == 0", strict: true }], maxErrorRate: 0 });
  });

  it("judges failed virtual users and 5xx answers against --max-error-rate, 0 by default", () => {
    const script = quickScript({ url: "http://localhost:3000/", rate: 10, duration: 5, maxErrorRate: 2.5 });
    expect(script.ensure).toEqual({ thresholds: [], conditions: [{ expression: "http.codes.5xx <= http.responses * 0.025", strict: true }], maxErrorRate: 2.5 });
    expect(() => quickScript({ url: "http://localhost/", count: 1, num: 1, maxErrorRate: 101 })).toThrow(
      new ScriptError("must be a percentage from 0 to 100, got 101", "--max-error-rate", null),
    );
    expect(() => quickScript({ url: "http://localhost/", count: 1, num: 1, maxErrorRate: -1 })).toThrow(/--max-error-rate/);
  });

  it("makes a single request without a loop when num is 1", () => {
    const script = quickScript({ url: "https://shop.example.com/", count: 3, num: 1 });
    expect(script.scenarios[0]?.flow).toEqual([{ kind: "request", method: "GET", url: "/" }]);
  });

  it("runs a constant arrival rate with one request per virtual user, carrying method, body and headers", () => {
    const script = quickScript({
      url: "http://localhost:3000/api/carts",
      rate: 25,
      duration: 30,
      method: "POST",
      body: { sku: "TEE-M", quantity: 1 },
      headers: { authorization: "Bearer t" },
    });
    expect(script.phases).toEqual([{ duration: 30, arrivalRate: 25 }]);
    expect(script.scenarios[0]?.flow).toEqual([
      { kind: "request", method: "POST", url: "/api/carts", json: { sku: "TEE-M", quantity: 1 }, headers: { authorization: "Bearer t" } },
    ]);
  });

  it("rejects bad numbers and URLs, naming the option", () => {
    expect(() => quickScript({ url: "http://localhost/", count: 0, num: 1 })).toThrow(new ScriptError("must be a positive whole number, got 0", "--count", null));
    expect(() => quickScript({ url: "http://localhost/", count: 2, num: 1.5 })).toThrow(/--num/);
    expect(() => quickScript({ url: "http://localhost/", rate: -1, duration: 10 })).toThrow(/--rate/);
    expect(() => quickScript({ url: "/api/health", count: 1, num: 1 })).toThrow(/not an absolute URL/);
    expect(() => quickScript({ url: "ftp://localhost/", count: 1, num: 1 })).toThrow(/http or https/);
  });
});
