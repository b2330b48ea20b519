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
function scriptWith(config: string[], flow: string[] = ["      - get:", '          url: "/"']): string {
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
    ["an unsupported config key", scriptWith([...onePhase, "  engines:", "    ws: {}"]), "config.engines", 6, /only the HTTP engine/],
    ["a misspelt config key", scriptWith([...onePhase, "  phase: []"]), "config.phase", 6, /unknown key "phase"/],
    ["a processor", scriptWith([...onePhase, '  processor: "./hooks.js"']), "config.processor", 6, /processor runs JavaScript/],
    ["a timeout in the wrong type", scriptWith([...onePhase, "  http:", "    timeout: soon"]), "config.http.timeout", 7, /expected a number/],
    ["a header that is a map", scriptWith([...onePhase, "  defaults:", "    headers:", "      x-a:", "        b: c"]), "config.defaults.headers.x-a", 9, /expected a string/],
    [
      "a variable that is a map",
      scriptWith([...onePhase, "  variables:", "    currency:", "      code: EUR"]),
      "config.variables.currency",
      8,
      /expected a string, number or boolean, got a map/,
    ],
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
    [
      "a bad payload order",
      scriptWith([...onePhase, "  payload:", "    - path: data/skus.csv", "      fields: [sku]", "      order: shuffled"]),
      "config.payload[0].order",
      9,
      /random or sequence/,
    ],
    ["a payload with an unclosed quote", scriptWith([...onePhase, "  payload:", "    path: data/broken.csv", "    fields: [a, b]"]), "config.payload.path", 7, /never closed/],
    [
      "a payload row with too few columns",
      scriptWith([...onePhase, "  payload:", "    path: data/short.csv", "    fields: [a, b]"]),
      "config.payload.path",
      7,
      /row 2 .* has 1 columns but 2 fields/,
    ],
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
    [
      "a beforeRequest hook",
      scriptWith(onePhase, ["      - get:", '          url: "/"', "          beforeRequest: sign"]),
      "scenarios[0].flow[0].get.beforeRequest",
      10,
      /processor/,
    ],
    ["a scenario hook", scriptWith(onePhase, ['      - get: { url: "/" }', "    beforeScenario: login"]), "scenarios[0].beforeScenario", 9, /processor/],
    ["a request without url", scriptWith(onePhase, ["      - post:", "          json: {}"]), "scenarios[0].flow[0].post.url", 8, /"url" is required/],
    ["a url that is a number", scriptWith(onePhase, ["      - get:", "          url: 42"]), "scenarios[0].flow[0].get.url", 9, /expected a string/],
    [
      "an unknown request key",
      scriptWith(onePhase, ["      - get:", '          url: "/"', "          follow: true"]),
      "scenarios[0].flow[0].get.follow",
      10,
      /unknown key "follow"/,
    ],
    ["a negative think", scriptWith(onePhase, ["      - think: -1"]), "scenarios[0].flow[0].think", 8, /at least 0/],
    ["a loop without count", scriptWith(onePhase, ["      - loop:", "          - think: 1"]), "scenarios[0].flow[0].count", 8, /"count" is required/],
    [
      "a bad step inside a loop",
      scriptWith(onePhase, ["      - loop:", "          - log: hi", "        count: 2"]),
      "scenarios[0].flow[0].loop[0].log",
      9,
      /log steps are not supported/,
    ],
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
    [
      "a template in a default header without a source",
      scriptWith([...onePhase, "  defaults:", "    headers:", '      authorization: "{{ token }}"']),
      "config.defaults.headers.authorization",
      8,
      /never defined/,
    ],
  ])("rejects %s", (_, text, path, line, message) => {
    const error = errorOf(text);
    expect(error).toMatchObject({ path, line });
    expect(error.message).toMatch(message);
  });

  it("accepts a template that refers to a capture made in another scenario or later step", () => {
    const text = scriptWith(onePhase, [
      '      - get: { url: "/orders/{{ orderId }}" }',
      "      - post:",
      '          url: "/orders"',
      "          capture: { json: $.id, as: orderId }",
    ]);
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

  it("refuses an ensure condition that is not a valid expression, naming its key and line", () => {
    const text = scriptWith([...onePhase, "  ensure:", "    conditions:", '      - expression: "http.response_time.p95 < "']);
    expect(errorOf(text)).toMatchObject({ path: "config.ensure.conditions[0].expression", line: 8 });
    expect(errorOf(text).message).toContain("is not a valid expression: the expression ends too early");
  });

  it("formats the message with the key path and line", () => {
    expect(() => parse(scriptWith(["  phases:", "    - duration: -5", "      arrivalRate: 1"]))).toThrow("config.phases[0].duration (line 4): must be greater than 0, got -5");
  });
});

/** A script with a two-phase config and two environments, line by line so tests can name lines. */
const withEnvironments = [
  "config:", //                                  1
  '  target: "http://localhost:3000"', //       2
  "  phases:", //                                3
  "    - name: warm-up", //                      4
  "      duration: 10", //                       5
  "      arrivalRate: 100", //                   6
  "    - name: baseline", //                     7
  "      duration: 50", //                       8
  "      arrivalRate: 100", //                   9
  "      rampTo: 200", //                        10
  "  variables:", //                             11
  "    sku: [TEE, MUG, TOTE]", //                12
  '    paymentUrl: "http://localhost:3001"', //  13
  "  plugins:", //                               14
  "    ensure:", //                              15
  "      thresholds:", //                        16
  '        - "http.response_time.p95": 300', // 17
  "  environments:", //                          18
  "    ci:", //                                  19
  "      phases:", //                            20
  "        - duration: 5", //                    21
  "        - duration: 20", //                   22
  "    staging:", //                             23
  '      target: "https://staging.example.com"', // 24
  "      variables:", //                         25
  "        sku: [HOOD]", //                      26
  "      plugins:", //                           27
  "        ensure:", //                          28
  "          maxErrorRate: 1", //                29
  "scenarios:", //                               30
  "  - name: browse", //                         31
  "    flow:", //                                32
  '      - get: { url: "/{{ sku }}" }', //       33
  "  - name: pay", //                            34
  "    flow:", //                                35
  '      - post: { url: "{{ paymentUrl }}/v1/tokens" }', // 36
].join("\n");

function parseWith(text: string, options: { environment?: string; variablesJson?: string; scenarioName?: string; targetOverride?: string }) {
  return parseScript(text, { path: "journey.yml", baseDir, ...options });
}

function errorWith(text: string, options: Parameters<typeof parseWith>[1]): { path: string; line: number | null; message: string } {
  try {
    parseWith(text, options);
  } catch (error) {
    if (error instanceof ScriptError) return { path: error.path, line: error.line, message: error.message };
    throw error;
  }
  throw new Error("expected a ScriptError");
}

/** withEnvironments with the ci environment's lines replaced. */
function withCi(...lines: string[]): string {
  return withEnvironments.replace("      phases:\n        - duration: 5\n        - duration: 20", lines.join("\n"));
}

describe("parseScript with config.environments", () => {
  it("runs config as written when no environment is chosen", () => {
    const script = parseWith(withEnvironments, {});
    expect(script.target).toBe("http://localhost:3000");
    expect(script.phases.map((phase) => phase.duration)).toEqual([10, 50]);
    expect(script.ensure.maxErrorRate).toBeUndefined();
  });

  it("merges the chosen environment's phases into config's item by item, keeping the rest of each phase", () => {
    expect(parseWith(withEnvironments, { environment: "ci" }).phases).toEqual([
      { name: "warm-up", duration: 5, arrivalRate: 100 },
      { name: "baseline", duration: 20, arrivalRate: 100, rampTo: 200 },
    ]);
  });

  it("keeps config's later phases when the environment lists fewer, as Artillery's merge does", () => {
    const script = parseWith(withCi("      phases:", "        - duration: 2", "          arrivalRate: 5"), { environment: "ci" });
    expect(script.phases).toEqual([
      { name: "warm-up", duration: 2, arrivalRate: 5 },
      { name: "baseline", duration: 50, arrivalRate: 100, rampTo: 200 },
    ]);
  });

  it("replaces the target, merges variables by position and adds ensure keys", () => {
    const script = parseWith(withEnvironments, { environment: "staging" });
    expect(script.target).toBe("https://staging.example.com");
    expect(script.variables).toEqual({ sku: ["HOOD", "MUG", "TOTE"], paymentUrl: ["http://localhost:3001"] });
    expect(script.ensure).toEqual({ thresholds: [{ metric: "http.response_time.p95", max: 300 }], conditions: [], maxErrorRate: 1 });
  });

  it("lets --target win over the environment's target", () => {
    expect(parseWith(withEnvironments, { environment: "staging", targetOverride: "http://127.0.0.1:9" }).target).toBe("http://127.0.0.1:9");
  });

  it("names the known environments when the chosen one does not exist", () => {
    const error = errorWith(withEnvironments, { environment: "prod" });
    expect(error).toMatchObject({ path: "config.environments", line: 18 });
    expect(error.message).toMatch(/no environment "prod" \(from --environment\); known: ci, staging/);
  });

  it("says so when the script has no environments at all", () => {
    const error = errorWith(scriptWith(onePhase), { environment: "ci" });
    expect(error).toMatchObject({ path: "--environment", line: null });
    expect(error.message).toMatch(/has no config.environments/);
  });

  it.each([
    ["a bad value in the chosen environment", withCi("      phases:", "        - duration: -1"), "ci", "config.environments.ci.phases[0].duration", 21, /greater than 0/],
    ["a misspelt key in an environment that is not chosen", withCi("      phase: []"), undefined, "config.environments.ci.phase", 20, /unknown key "phase"/],
    ["a processor in an environment", withCi('      processor: "./hooks.js"'), undefined, "config.environments.ci.processor", 20, /processor runs JavaScript/],
    ["a nested environments key", withCi("      environments: {}"), undefined, "config.environments.ci.environments", 20, /do not nest/],
    [
      "an environment that is not a map",
      withCi("      phases: []").replace("    ci:\n      phases: []", "    ci: fast"),
      undefined,
      "config.environments.ci",
      19,
      /expected a map/,
    ],
    [
      "an arrivalCount merged into a phase with arrivalRate",
      withCi("      phases:", "        - arrivalCount: 10"),
      "ci",
      "config.environments.ci.phases[0].arrivalCount",
      21,
      /not both: the environment's phase merges into config's phase .* every worker/,
    ],
    [
      "a merged phase that ends up without arrivals",
      withCi("      phases:", "        - arrivalRate: null"),
      "ci",
      "config.environments.ci.phases[0].arrivalRate",
      21,
      /expected a number, got nothing/,
    ],
    ["a bad target in the environment", withCi("      target: staging"), "ci", "config.environments.ci.target", 20, /not an absolute URL/],
  ])("rejects %s at its own key path and line", (_, text, environment, path, line, message) => {
    const error = errorWith(text, environment === undefined ? {} : { environment });
    expect(error).toMatchObject({ path, line });
    expect(error.message).toMatch(message);
  });

  it("explains a merged list or map that fails as a whole", () => {
    const text = withCi("      plugins:", "        ensure:", "          thresholds:", '            - "http.response_time.p99": 500');
    const error = errorWith(text, { environment: "ci" });
    expect(error).toMatchObject({ path: "config.environments.ci.plugins.ensure.thresholds[0]", line: 23 });
    expect(error.message).toMatch(/single-key map .*after merging it into config.plugins.ensure.thresholds\[0\] key by key and list item by position/);
  });
});

describe("parseScript with --variables", () => {
  it("replaces and adds variables, after the environment", () => {
    const script = parseWith(withEnvironments, { environment: "staging", variablesJson: '{"paymentUrl": "http://127.0.0.1:4001", "sku": ["SOCK", "BEAN"], "quantity": 2}' });
    expect(script.variables).toEqual({ sku: ["SOCK", "BEAN"], paymentUrl: ["http://127.0.0.1:4001"], quantity: [2] });
  });

  it("defines a variable that only --variables gives", () => {
    const text = scriptWith(onePhase, ['      - get: { url: "/{{ region }}" }']);
    expect(() => parse(text)).toThrow(/never defined/);
    expect(parseWith(text, { variablesJson: '{"region": "eu"}' }).variables).toEqual({ region: ["eu"] });
  });

  it.each([
    ["not JSON", "{paymentUrl: 1}", "--variables", /not valid JSON/],
    ["a list", '["a"]', "--variables", /expected a JSON object/],
    ["a map value", '{"a": {"b": 1}}', "--variables.a", /expected a string, number or boolean/],
    ["an empty list", '{"a": []}', "--variables.a", /empty/],
    ["a bad name", '{"1a": "x"}', "--variables.1a", /letters, digits/],
  ])("rejects %s", (_, json, path, message) => {
    const error = errorWith(withEnvironments, { variablesJson: json });
    expect(error).toMatchObject({ path, line: null });
    expect(error.message).toMatch(message);
  });
});

describe("parseScript with --scenario-name", () => {
  it("keeps only the scenario with that name", () => {
    expect(parseWith(withEnvironments, { scenarioName: "pay" }).scenarios.map((s) => s.name)).toEqual(["pay"]);
  });

  it("also matches the name as a regular expression, as Artillery does", () => {
    expect(parseWith(withEnvironments, { scenarioName: "^bro" }).scenarios.map((s) => s.name)).toEqual(["browse"]);
  });

  it.each([
    ["no scenario", "checkout", /no scenario is named "checkout" .*named scenarios: "browse", "pay"/],
    ["two scenarios", "s|p", /"s\|p" matches "browse", "pay"; give a name that picks one/],
  ])("rejects a name that matches %s", (_, name, message) => {
    const error = errorWith(withEnvironments, { scenarioName: name });
    expect(error).toMatchObject({ path: "--scenario-name", line: null });
    expect(error.message).toMatch(message);
  });
});
