import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseScript } from "./parse-script.ts";
import { ScriptError } from "./script-types.ts";

const baseDir = mkdtempSync(join(tmpdir(), "parse-script-"));
mkdirSync(join(baseDir, "data"));
writeFileSync(join(baseDir, "data", "customers.csv"), 'email,name\nada@example.com,"Lovelace, Ada"\n"grace@example.com","Hopper, ""Amazing"" Grace"\n');
writeFileSync(join(baseDir, "data", "skus.csv"), "TEE-M\nMUG\n");
writeFileSync(join(baseDir, "data", "broken.csv"), 'a,"b\n');
writeFileSync(join(baseDir, "data", "short.csv"), "a,b\nc\n");

const checkoutJourney = `config:
  target: "https://shop.example.com"
  phases:
    - name: warm up
      duration: 60
      arrivalRate: 1
      rampTo: 10
    - name: peak
      duration: 120
      arrivalCount: 600
      maxVusers: 50
  http:
    timeout: 5
  defaults:
    headers:
      accept: application/json
      x-client-version: 3
  variables:
    currency: [EUR, USD]
    quantity:
      - 1
      - 2
  payload:
    - path: data/customers.csv
      fields: [email, name]
      order: sequence
      skipHeader: true
    - path: data/skus.csv
      fields: [sku]
  plugins:
    expect: {}
    ensure:
      thresholds:
        - "http.response_time.p95": 300
      conditions:
        - expression: "http.response_time.p99 < 800"
          strict: false
  ensure:
    maxErrorRate: 1
scenarios:
  - name: browse and buy
    weight: 3
    flow:
      - get:
          url: "/api/products"
          qs:
            currency: "{{ currency }}"
          capture:
            json: "$.items[0].id"
            as: productId
          expect:
            - statusCode: 200
      - think: 1.5
      - post:
          url: "/api/carts"
          headers:
            idempotency-key: "{{ $uuid() }}"
          json:
            email: "{{ email }}"
            lines:
              - productId: "{{ productId }}"
                sku: "{{ sku }}"
                quantity: "{{ quantity }}"
          capture:
            - json: "$.id"
              as: cartId
            - json: "$['total-minor']"
              as: total
          expect:
            statusCode: [200, 201]
      - loop:
          - get:
              url: "/api/carts/{{ cartId }}"
        count: 3
      - post:
          url: "/api/carts/{{ cartId }}/checkout"
          json:
            reference: "{{ $randomString(8) }}"
            amount: "{{ total }}"
  - name: just looking
    flow:
      - get:
          url: "/"
`;

function parse(text: string, targetOverride?: string) {
  return parseScript(text, { path: "journey.yml", baseDir, ...(targetOverride === undefined ? {} : { targetOverride }) });
}

function errorOf(text: string): { path: string; line: number | null; message: string } {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ScriptError) return { path: error.path, line: error.line, message: error.message };
    throw error;
  }
  throw new Error("expected a ScriptError");
}

/** A valid script built line by line, so tests can name the line of each error. */
function scriptWith(config: string[], flow: string[] = ['      - get:', '          url: "/"']): string {
  return ["config:", '  target: "http://localhost:3000"', ...config, "scenarios:", "  - flow:", ...flow].join("\n");
}

const onePhase = ["  phases:", "    - duration: 10", "      arrivalRate: 1"];

describe("parseScript", () => {
  it("reads a full checkout journey into the script model", () => {
    const script = parse(checkoutJourney);
    expect(script.target).toBe("https://shop.example.com");
    expect(script.phases).toEqual([
      { name: "warm up", duration: 60, arrivalRate: 1, rampTo: 10 },
      { name: "peak", duration: 120, arrivalCount: 600, maxVusers: 50 },
    ]);
    expect(script.http).toEqual({ timeoutSeconds: 5 });
    expect(script.defaults).toEqual({ headers: { accept: "application/json", "x-client-version": "3" } });
    expect(script.variables).toEqual({ currency: ["EUR", "USD"], quantity: [1, 2] });
    expect(script.payloads).toEqual([
      {
        path: join(baseDir, "data", "customers.csv"),
        fields: ["email", "name"],
        order: "sequence",
        skipHeader: true,
        rows: [
          ["ada@example.com", "Lovelace, Ada"],
          ["grace@example.com", 'Hopper, "Amazing" Grace'],
        ],
      },
      { path: join(baseDir, "data", "skus.csv"), fields: ["sku"], order: "random", skipHeader: false, rows: [["TEE-M"], ["MUG"]] },
    ]);
    expect(script.ensure).toEqual({
      thresholds: [{ metric: "http.response_time.p95", max: 300 }],
      conditions: [{ expression: "http.response_time.p99 < 800", strict: false }],
      maxErrorRate: 1,
    });
    expect(script.scenarios).toEqual([
      {
        name: "browse and buy",
        weight: 3,
        flow: [
          {
            kind: "request",
            method: "GET",
            url: "/api/products",
            qs: { currency: "{{ currency }}" },
            capture: [{ json: "$.items[0].id", as: "productId" }],
            expectStatus: [200],
          },
          { kind: "think", seconds: 1.5 },
          {
            kind: "request",
            method: "POST",
            url: "/api/carts",
            headers: { "idempotency-key": "{{ $uuid() }}" },
            json: { email: "{{ email }}", lines: [{ productId: "{{ productId }}", sku: "{{ sku }}", quantity: "{{ quantity }}" }] },
            capture: [
              { json: "$.id", as: "cartId" },
              { json: "$['total-minor']", as: "total" },
            ],
            expectStatus: [200, 201],
          },
          { kind: "loop", count: 3, steps: [{ kind: "request", method: "GET", url: "/api/carts/{{ cartId }}" }] },
          {
            kind: "request",
            method: "POST",
            url: "/api/carts/{{ cartId }}/checkout",
            json: { reference: "{{ $randomString(8) }}", amount: "{{ total }}" },
          },
        ],
      },
      { name: "just looking", weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] },
    ]);
  });

  it("fills in defaults for a minimal script", () => {
    const script = parse(scriptWith(onePhase));
    expect(script.http).toEqual({ timeoutSeconds: 10 });
    expect(script.defaults).toEqual({ headers: {} });
    expect(script.variables).toEqual({});
    expect(script.payloads).toEqual([]);
    expect(script.ensure).toEqual({ thresholds: [], conditions: [] });
    expect(script.scenarios).toEqual([{ weight: 1, flow: [{ kind: "request", method: "GET", url: "/" }] }]);
  });

  it("accepts a single payload object and the target override instead of config.target", () => {
    const text = ["config:", ...onePhase, "  payload:", "    path: data/skus.csv", "    fields: [sku]", "scenarios:", "  - flow:", "      - think: 1"].join("\n");
    const script = parse(text, "http://staging.internal:8080");
    expect(script.target).toBe("http://staging.internal:8080");
    expect(script.payloads.map((payload) => payload.fields)).toEqual([["sku"]]);
  });

  it.each([
    ["a negative duration", scriptWith(["  phases:", "    - duration: -5", "      arrivalRate: 1"]), "config.phases[0].duration", 4, /greater than 0/],
    ["a duration given as a string", scriptWith(["  phases:", '    - duration: "1m"', "      arrivalRate: 1"]), "config.phases[0].duration", 4, /expected a number/],
    [
      "rampTo without arrivalRate",
      scriptWith([...onePhase, "    - duration: 10", "      arrivalCount: 5", "      rampTo: 50"]),
      "config.phases[1].rampTo",
      8,
      /needs an arrivalRate/,
    ],
    ["a phase without any arrivals", scriptWith(["  phases:", "    - duration: 10"]), "config.phases[0]", 4, /arrivalRate or arrivalCount/],
    ["both arrivalRate and arrivalCount", scriptWith([...onePhase, "      arrivalCount: 3"]), "config.phases[0].arrivalCount", 6, /not both/],
    ["a fractional maxVusers", scriptWith([...onePhase, "      maxVusers: 2.5"]), "config.phases[0].maxVusers", 6, /whole number/],
    ["an unknown phase key", scriptWith([...onePhase, "      pause: 5"]), "config.phases[0].pause", 6, /pause phases are not supported/],
    ["empty phases", scriptWith(["  phases: []"]), "config.phases", 3, /must not be empty/],
    ["a missing phases key", scriptWith([]), "config.phases", 2, /"phases" is required/],
    ["an unknown config key", scriptWith([...onePhase, "  environments:", "    staging: {}"]), "config.environments", 6, /environments are not supported/],
    ["a misspelt config key", scriptWith([...onePhase, "  phase: []"]), "config.phase", 6, /unknown key "phase"/],
    ["a processor", scriptWith([...onePhase, '  processor: "./hooks.js"']), "config.processor", 6, /processor runs JavaScript/],
    ["a timeout in the wrong type", scriptWith([...onePhase, "  http:", "    timeout: soon"]), "config.http.timeout", 7, /expected a number/],
    ["a header that is a map", scriptWith([...onePhase, "  defaults:", "    headers:", "      x-a:", "        b: c"]), "config.defaults.headers.x-a", 9, /expected a string/],
    ["a variable that is not a list", scriptWith([...onePhase, "  variables:", "    currency: EUR"]), "config.variables.currency", 7, /expected a list/],
    ["an unsupported plugin", scriptWith([...onePhase, "  plugins:", "    metrics-by-endpoint: {}"]), "config.plugins.metrics-by-endpoint", 7, /not supported/],
    [
      "a threshold map with two metrics",
      scriptWith([...onePhase, "  ensure:", "    thresholds:", '      - "http.response_time.p95": 300', '        "http.response_time.p99": 500']),
      "config.ensure.thresholds[0]",
      8,
      /single-key map/,
    ],
    [
      "a negative threshold",
      scriptWith([...onePhase, "  plugins:", "    ensure:", "      thresholds:", '        - "http.response_time.p95": -1']),
      'config.plugins.ensure.thresholds[0]["http.response_time.p95"]',
      9,
      /at least 0/,
    ],
    ["a condition without expression", scriptWith([...onePhase, "  ensure:", "    conditions:", "      - strict: true"]), "config.ensure.conditions[0].expression", 8, /required/],
    ["legacy ensure keys", scriptWith([...onePhase, "  ensure:", "    p95: 200"]), "config.ensure.p95", 7, /use thresholds/],
    [
      "maxErrorRate in both ensure places",
      scriptWith([...onePhase, "  plugins:", "    ensure:", "      maxErrorRate: 1", "  ensure:", "    maxErrorRate: 2"]),
      "config.ensure.maxErrorRate",
      10,
      /both/,
    ],
    ["a missing payload file", scriptWith([...onePhase, "  payload:", "    path: data/nope.csv", "    fields: [a]"]), "config.payload.path", 7, /does not exist/],
    ["a bad payload order", scriptWith([...onePhase, "  payload:", "    - path: data/skus.csv", "      fields: [sku]", "      order: shuffled"]), "config.payload[0].order", 9, /random or sequence/],
    ["a payload with an unclosed quote", scriptWith([...onePhase, "  payload:", "    path: data/broken.csv", "    fields: [a, b]"]), "config.payload.path", 7, /never closed/],
    ["a payload row with too few columns", scriptWith([...onePhase, "  payload:", "    path: data/short.csv", "    fields: [a, b]"]), "config.payload.path", 7, /row 2 .* has 1 columns but 2 fields/],
    ["a target that is not a URL", ["config:", "  target: localhost", ...onePhase, "scenarios: []"].join("\n"), "config.target", 2, /not an absolute URL/],
    ["empty scenarios", scriptWith(onePhase).replace(/scenarios:[\s\S]*/, "scenarios: []"), "scenarios", 6, /must not be empty/],
    ["an unknown top-level key", `${scriptWith(onePhase)}\nbefore:\n  flow: []`, "before", 10, /before\/after flows are not supported/],
  ])("rejects %s", (_, text, path, line, message) => {
    const error = errorOf(text);
    expect(error).toMatchObject({ path, line });
    expect(error.message).toMatch(message);
  });

  it.each([
    ["a scenario without flow", scriptWith(onePhase, []).replace("  - flow:", "  - name: no flow"), "scenarios[0].flow", 7, /"flow" is required/],
    ["a function step", scriptWith(onePhase, ['      - function: "addToken"']), "scenarios[0].flow[0].function", 8, /processor/],
    ["an unknown step kind", scriptWith(onePhase, ["      - head:", '          url: "/"']), "scenarios[0].flow[0].head", 8, /unknown step kind "head"/],
    ["a step with two kinds", scriptWith(onePhase, ['      - get: { url: "/" }', "        think: 1"]), "scenarios[0].flow[0].think", 9, /exactly one kind/],
    ["a beforeRequest hook", scriptWith(onePhase, ["      - get:", '          url: "/"', "          beforeRequest: sign"]), "scenarios[0].flow[0].get.beforeRequest", 10, /processor/],
    ["a scenario hook", scriptWith(onePhase, ['      - get: { url: "/" }', "    beforeScenario: login"]), "scenarios[0].beforeScenario", 9, /processor/],
    ["a request without url", scriptWith(onePhase, ["      - post:", "          json: {}"]), "scenarios[0].flow[0].post.url", 8, /"url" is required/],
    ["a url that is a number", scriptWith(onePhase, ["      - get:", "          url: 42"]), "scenarios[0].flow[0].get.url", 9, /expected a string/],
    ["an unknown request key", scriptWith(onePhase, ["      - get:", '          url: "/"', "          follow: true"]), "scenarios[0].flow[0].get.follow", 10, /unknown key "follow"/],
    ["a negative think", scriptWith(onePhase, ["      - think: -1"]), "scenarios[0].flow[0].think", 8, /at least 0/],
    ["a loop without count", scriptWith(onePhase, ["      - loop:", "          - think: 1"]), "scenarios[0].flow[0].count", 8, /"count" is required/],
    ["a bad step inside a loop", scriptWith(onePhase, ["      - loop:", "          - log: hi", "        count: 2"]), "scenarios[0].flow[0].loop[0].log", 9, /log steps are not supported/],
    ["a zero weight", scriptWith(onePhase, ['      - get: { url: "/" }', "    weight: 0"]), "scenarios[0].weight", 9, /greater than 0/],
    [
      "a capture that is not json",
      scriptWith(onePhase, ["      - get:", '          url: "/"', "          capture:", "            - header: x-id", "              as: id"]),
      "scenarios[0].flow[0].get.capture[0].header",
      11,
      /only json captures/,
    ],
    [
      "a bad capture path",
      scriptWith(onePhase, ["      - get:", '          url: "/"', "          capture:", '            json: "id"', "            as: id"]),
      "scenarios[0].flow[0].get.capture.json",
      11,
      /starts with \$/,
    ],
    [
      "an unsupported expectation",
      scriptWith(onePhase, ["      - get:", '          url: "/"', "          expect:", "            - statusCode: 200", "            - contentType: json"]),
      "scenarios[0].flow[0].get.expect[1].contentType",
      12,
      /only statusCode/,
    ],
    [
      "a status code out of range",
      scriptWith(onePhase, ["      - get:", '          url: "/"', "          expect:", "            statusCode: [200, 99]"]),
      "scenarios[0].flow[0].get.expect.statusCode[1]",
      11,
      /HTTP status code/,
    ],
    [
      "a variable that is never defined",
      scriptWith(onePhase, ["      - post:", '          url: "/"', "          json:", "            lines:", '              - sku: "{{ skuu }}"']),
      "scenarios[0].flow[0].post.json.lines[0].sku",
      12,
      /"\{\{ skuu \}\}" is never defined/,
    ],
    ["an unknown helper", scriptWith(onePhase, ["      - get:", '          url: "/{{ $now() }}"']), "scenarios[0].flow[0].get.url", 9, /unknown helper/],
    ["a template in a default header without a source", scriptWith([...onePhase, "  defaults:", "    headers:", '      authorization: "{{ token }}"']), "config.defaults.headers.authorization", 8, /never defined/],
  ])("rejects %s", (_, text, path, line, message) => {
    const error = errorOf(text);
    expect(error).toMatchObject({ path, line });
    expect(error.message).toMatch(message);
  });

  it("accepts a template that refers to a capture made in another scenario or later step", () => {
    const text = scriptWith(onePhase, ['      - get: { url: "/orders/{{ orderId }}" }', "      - post:", '          url: "/orders"', "          capture: { json: $.id, as: orderId }"]);
    expect(parse(text).scenarios[0]?.flow).toHaveLength(2);
  });

  it("reports invalid YAML with its line", () => {
    const error = errorOf("config:\n  target: [unclosed\nscenarios: []\n");
    expect(error.path).toBe("(root)");
    expect(error.message).toMatch(/journey\.yml is not valid YAML/);
    expect(error.line).toBe(3);
  });

  it("reports a duplicate key as invalid YAML", () => {
    expect(errorOf(scriptWith([...onePhase, "  http: {}", "  http: {}"])).message).toMatch(/not valid YAML/);
  });

  it("formats the message with the key path and line", () => {
    expect(() => parse(scriptWith(["  phases:", "    - duration: -5", "      arrivalRate: 1"]))).toThrow("config.phases[0].duration (line 4): must be greater than 0, got -5");
  });
});
