// The invariant step's own rules: the plugin key in scripts, where the token comes from, what the
// admin API's answers become. Against the real service: packages/api/test/invariants-loadtest.test.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseScript } from "../script/parse-script.ts";
import { ScriptError } from "../script/script-types.ts";
import { buildScript, freePort, startTestServer, type TestServer } from "../../test/support/index.ts";
import { DEV_TOKEN_FILE_ENV, InvariantsSetupError, isLoopback, resolveAdminToken } from "./admin-token.ts";
import { fetchInvariants, invariantsUrl, readReport, type InvariantReport } from "./invariants-client.ts";
import { invariantVerdicts, judgeInvariants, MAX_VIOLATION_VERDICTS, prepareInvariants } from "./invariants-step.ts";

const script = (plugins: string) => `
config:
  target: "http://localhost:3000"
  phases:
    - duration: 1
      arrivalRate: 1
  plugins:
${plugins}
scenarios:
  - flow:
      - get:
          url: "/health"
`;
const parse = (plugins: string) => parseScript(script(plugins), { path: "test.yml", baseDir: "." });

function cleanReport(overrides: Partial<InvariantReport> = {}): InvariantReport {
  return {
    checkedAt: "2026-11-24T10:00:00.000Z",
    passed: true,
    checks: [
      { invariant: "stock", passed: true, violations: 0, byKind: {} },
      { invariant: "charges", passed: true, violations: 0, byKind: {} },
    ],
    violations: [],
    stock: { skus: 40, unitsReceived: 2000, unitsAvailable: 1990, unitsHeld: 10 },
    orders: { total: 11, byStatus: { captured: 10, payment_failed: 1 } },
    charges: { total: 10, authorised: 0, captured: 10 },
    ...overrides,
  };
}

function duplicateChargeReport(violations: number): InvariantReport {
  return cleanReport({
    passed: false,
    checks: [
      { invariant: "stock", passed: true, violations: 0, byKind: {} },
      { invariant: "charges", passed: false, violations, byKind: { duplicate_charge: violations } },
    ],
    violations: Array.from({ length: Math.min(violations, 100) }, (_, i) => ({
      invariant: "charges",
      kind: "duplicate_charge",
      subject: String(100001 + i),
      detail: `order ${100001 + i} (captured, total 2400 USD) has 2 charges (2 captures); expected at most one`,
    })),
  });
}

describe("config.plugins.checkout-invariants", () => {
  it("is off unless the script opts in", () => {
    expect(parse("    ensure:\n      maxErrorRate: 1").invariants).toBeUndefined();
  });

  it("reads the token from CHECKOUT_ADMIN_TOKEN by default, or from the variable the script names", () => {
    expect(parse("    checkout-invariants:").invariants).toEqual({ adminTokenEnv: "CHECKOUT_ADMIN_TOKEN" });
    expect(parse("    checkout-invariants:\n      adminTokenEnv: PROD_ADMIN_TOKEN").invariants).toEqual({ adminTokenEnv: "PROD_ADMIN_TOKEN" });
  });

  it("keeps the ensure plugin working beside it", () => {
    const parsed = parse("    checkout-invariants: {}\n    ensure:\n      maxErrorRate: 1");
    expect(parsed.ensure.maxErrorRate).toBe(1);
    expect(parsed.invariants).toEqual({ adminTokenEnv: "CHECKOUT_ADMIN_TOKEN" });
  });

  it("refuses a token written into the script, without echoing it", () => {
    expect(() => parse("    checkout-invariants:\n      token: s3cret-s3cret-s3cret-s3cret-s3cret")).toThrow(
      /config\.plugins\.checkout-invariants\.token \(line 9\): not supported: an admin token never goes in a script/,
    );
    let error: unknown;
    try {
      parse("    checkout-invariants:\n      adminTokenEnv: s3cret-s3cret-s3cret-s3cret-s3cret");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ScriptError);
    expect((error as Error).message).toContain("expected an environment variable name");
    expect((error as Error).message).not.toContain("s3cret");
  });

  it("names unknown options", () => {
    expect(() => parse("    checkout-invariants:\n      url: http://x")).toThrow(/unknown key "url"; expected one of: adminTokenEnv, acknowledgedOrders/);
  });

  it("takes the variable acknowledged order numbers are captured into, and refuses one no step captures", () => {
    const capturing = script("    checkout-invariants:\n      acknowledgedOrders: orderNumber").replace(
      '          url: "/health"',
      '          url: "/health"\n          capture:\n            - json: "$.result.data.number"\n              as: orderNumber',
    );
    expect(parseScript(capturing, { path: "test.yml", baseDir: "." }).invariants).toEqual({ adminTokenEnv: "CHECKOUT_ADMIN_TOKEN", acknowledgedOrders: "orderNumber" });
    expect(() => parse("    checkout-invariants:\n      acknowledgedOrders: orderNumber")).toThrow(
      /config\.plugins\.checkout-invariants\.acknowledgedOrders \(line 9\): no step captures "orderNumber"/,
    );
    expect(() => parse("    checkout-invariants:\n      acknowledgedOrders: 'order number'")).toThrow(/expected the name of a variable a step captures/);
  });
});

describe("resolveAdminToken", () => {
  const devFile = (content: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "invariants-")), "admin-token");
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  };

  it("prefers the named variable", () => {
    const token = resolveAdminToken({ target: "https://shop.example.com", adminTokenEnv: "MY_TOKEN", env: { MY_TOKEN: " abc \n" } });
    expect(token).toEqual({ token: "abc", source: "MY_TOKEN", isDevFile: false });
  });

  it("falls back to the development token file only for a shop on this machine", () => {
    const file = devFile("dev-token-123\n");
    const env = { [DEV_TOKEN_FILE_ENV]: file };
    expect(resolveAdminToken({ target: "http://localhost:3000", adminTokenEnv: "CHECKOUT_ADMIN_TOKEN", env })).toEqual({ token: "dev-token-123", source: file, isDevFile: true });
    expect(resolveAdminToken({ target: "http://127.0.0.1:4000", adminTokenEnv: "CHECKOUT_ADMIN_TOKEN", env }).token).toBe("dev-token-123");
    expect(() => resolveAdminToken({ target: "https://shop.example.com", adminTokenEnv: "CHECKOUT_ADMIN_TOKEN", env })).toThrow(
      "config.plugins.checkout-invariants: set CHECKOUT_ADMIN_TOKEN to an admin token of the service at https://shop.example.com (one from its ADMIN_API_TOKENS). The run was not started.",
    );
  });

  it("says what to set when neither is there", () => {
    const missing = path.join(tmpdir(), "no-such-dir", "admin-token");
    const attempt = () => resolveAdminToken({ target: "http://localhost:3000", adminTokenEnv: "CHECKOUT_ADMIN_TOKEN", env: { [DEV_TOKEN_FILE_ENV]: missing } });
    expect(attempt).toThrow(InvariantsSetupError);
    expect(attempt).toThrow(
      `set CHECKOUT_ADMIN_TOKEN to an admin token of the service at http://localhost:3000 (one from its ADMIN_API_TOKENS), or start the shop with \`pnpm start\``,
    );
    expect(attempt).toThrow(`${missing}; that file does not exist`);
  });

  it("knows which targets are this machine", () => {
    expect(["http://localhost:3000", "http://127.0.0.1", "http://127.1.2.3:80", "http://[::1]:3000"].every(isLoopback)).toBe(true);
    expect(["http://localhost.example.com", "http://10.0.0.1", "https://shop.example.com"].some(isLoopback)).toBe(false);
  });
});

describe("invariantVerdicts", () => {
  it("gives one passing verdict per invariant, with the counts behind it", () => {
    expect(invariantVerdicts(cleanReport())).toEqual([
      {
        metric: "invariants.stock",
        max: 0,
        actual: 0,
        passed: true,
        message: "invariant stock: orders within stock for 40 SKUs: 10 units held by live orders + 1990 available = 2000 received",
      },
      {
        metric: "invariants.charges",
        max: 0,
        actual: 0,
        passed: true,
        message:
          "invariant charges: 11 orders (captured 10, payment_failed 1), 10 charges (10 captured, 0 authorised): each paid order charged once for its total, no money held for unpaid ones",
      },
    ]);
  });

  it("fails the invariant and lists each violation, up to a limit, then counts the rest", () => {
    const verdicts = invariantVerdicts(duplicateChargeReport(25), duplicateChargeReport(1));
    expect(verdicts[1]).toEqual({
      metric: "invariants.charges",
      max: 0,
      actual: 25,
      passed: false,
      message: "invariant charges: 25 violations (duplicate_charge 25); already 1 before the load",
    });
    expect(verdicts.slice(2, 2 + MAX_VIOLATION_VERDICTS).every((v) => v.metric === "invariants.charges.duplicate_charge" && !v.passed)).toBe(true);
    expect(verdicts[2]!.message).toBe("duplicate_charge: order 100001 (captured, total 2400 USD) has 2 charges (2 captures); expected at most one");
    expect(verdicts.at(-1)).toMatchObject({ metric: "invariants.more", actual: 5, passed: false });
    expect(verdicts).toHaveLength(2 + MAX_VIOLATION_VERDICTS + 1);
  });
});

describe("the admin API conversation", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function serve(status: number, body: unknown) {
    const seen: { url: string; authorization: string | undefined }[] = [];
    return startTestServer((request, response) => {
      seen.push({ url: request.url ?? "", authorization: request.headers.authorization });
      response.writeHead(status, { "content-type": "application/json" });
      response.end(typeof body === "string" ? body : JSON.stringify(body));
    }).then((started) => {
      server = started;
      return seen;
    });
  }

  it("sends the bearer token to /trpc/admin.invariants and reads the report", async () => {
    const seen = await serve(200, { result: { data: cleanReport() } });
    const report = await fetchInvariants({ target: `${server!.url}/`, token: "tok", tokenSource: "CHECKOUT_ADMIN_TOKEN" });
    expect(report.passed).toBe(true);
    expect(seen).toEqual([{ url: "/trpc/admin.invariants", authorization: "Bearer tok" }]);
    expect(invariantsUrl("http://x:1/")).toBe("http://x:1/trpc/admin.invariants");
  });

  it("sends the acknowledged order numbers in POST batches of 4,000 and adds up what each batch found missing", async () => {
    // Stands in for the service: 100001..105000 exist, 100123 twice; anything else is missing.
    const batches: string[][] = [];
    const started = await startTestServer((request, response, body) => {
      {
        const numbers: string[] = request.method === "POST" ? (JSON.parse(body) as { orderNumbers: string[] }).orderNumbers : [];
        if (request.method === "POST") batches.push(numbers);
        const missing = numbers.filter((n) => Number(n) > 105000);
        const duplicated = numbers.filter((n) => n === "100123");
        const byKind = { ...(missing.length ? { order_missing: missing.length } : {}), ...(duplicated.length ? { order_duplicated: 1 } : {}) };
        const orderViolations = missing.length + duplicated.length;
        const report = cleanReport({
          passed: orderViolations === 0,
          checks: [...cleanReport().checks, ...(numbers.length ? [{ invariant: "orders", passed: orderViolations === 0, violations: orderViolations, byKind }] : [])],
          violations: [
            ...missing.map((n) => ({ invariant: "orders", kind: "order_missing", subject: n, detail: `order ${n} was acknowledged but is not in the database` })),
            ...duplicated.map((n) => ({ invariant: "orders", kind: "order_duplicated", subject: n, detail: `order ${n} exists 2 times` })),
          ],
          orderNumbersChecked: numbers.length,
        });
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ result: { data: report } }));
      }
    });
    server = started;
    const step = await prepareInvariants(
      { ...buildScript({ target: started.url, phases: [], scenarios: [] }), invariants: { adminTokenEnv: "T" } },
      { env: { T: "tok" }, log: () => undefined },
    );
    const acknowledged = [...Array.from({ length: 9000 }, (_, i) => String(100001 + i)), "100001", "100002"];
    const verdicts = await step!.check(acknowledged);
    expect(batches.map((b) => b.length)).toEqual([4000, 4000, 1000]);
    expect(new Set(batches.flat()).size).toBe(9000);
    const orders = verdicts.find((v) => v.metric === "invariants.orders");
    expect(orders).toMatchObject({ passed: false, actual: 4001, message: "invariant orders: 4001 violations (order_duplicated 1, order_missing 4000)" });
    expect(verdicts.filter((v) => v.metric === "invariants.orders.order_missing")[0]?.message).toBe("order_missing: order 105001 was acknowledged but is not in the database");

    batches.length = 0;
    const clean = await step!.check(["100001", "100002"]);
    expect(batches).toEqual([["100001", "100002"]]);
    expect(clean.find((v) => v.metric === "invariants.orders")).toMatchObject({
      passed: true,
      message: "invariant orders: each of the 2 order numbers the service acknowledged to this run exists exactly once",
    });
  });

  it("turns a refusal, a missing procedure and a foreign answer into messages that say what is wrong", async () => {
    await serve(401, { error: { message: "The admin API needs Authorization" } });
    await expect(fetchInvariants({ target: server!.url, token: "bad", tokenSource: "CHECKOUT_ADMIN_TOKEN" })).rejects.toMatchObject({
      reason: "unauthorized",
      message: expect.stringContaining("refused the token from CHECKOUT_ADMIN_TOKEN (401)"),
    });
    await server!.close();
    await serve(404, { error: { message: "No procedure found" } });
    await expect(fetchInvariants({ target: server!.url, token: "t", tokenSource: "X" })).rejects.toMatchObject({ reason: "not_found" });
    await server!.close();
    await serve(200, "<html>a proxy</html>");
    await expect(fetchInvariants({ target: server!.url, token: "t", tokenSource: "X" })).rejects.toMatchObject({ reason: "bad_response" });
    expect(readReport({ result: { data: { ...cleanReport(), checks: [{ invariant: "stock" }] } } })).toBeNull();
  });

  it("refuses to start the run when the admin API is unreachable or refuses the token (exit 2 in the CLI)", async () => {
    const unreachable = { ...buildScript({ target: `http://127.0.0.1:${await freePort()}`, phases: [], scenarios: [] }), invariants: { adminTokenEnv: "T" } };
    const attempt = prepareInvariants(unreachable, { env: { T: "tok" }, log: () => undefined });
    await expect(attempt).rejects.toBeInstanceOf(ScriptError);
    await expect(attempt).rejects.toThrow(/could not reach the admin API at http:\/\/127\.0\.0\.1:\d+\/trpc\/admin\.invariants \(ECONNREFUSED\).*The run was not started\./);

    await serve(401, { error: { message: "no" } });
    const refused = { ...buildScript({ target: server!.url, phases: [], scenarios: [] }), invariants: { adminTokenEnv: "T" } };
    await expect(prepareInvariants(refused, { env: { T: "tok" }, log: () => undefined })).rejects.toThrow(/refused the token from T \(401\)/);
  });

  it("fails the run, after the load, when the admin API stops answering or reports a violation", async () => {
    let answer: InvariantReport | null = cleanReport();
    const started = await startTestServer((_request, response) => {
      if (!answer) {
        response.destroy();
        return;
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ result: { data: answer } }));
    });
    server = started;
    const lines: string[] = [];
    const step = await prepareInvariants(
      { ...buildScript({ target: started.url, phases: [], scenarios: [] }), invariants: { adminTokenEnv: "T" } },
      { env: { T: "tok" }, log: (line) => lines.push(line) },
    );
    expect(lines).toEqual([`invariants: the admin API at ${started.url} answers (token from T); checked again after the load`]);
    const thresholds = { passed: true, isOnSchedule: true, verdicts: [{ metric: "maxErrorRate", max: 1, actual: 0, passed: true, message: "ok" }] };

    const clean = await judgeInvariants(thresholds, step);
    expect(clean.passed).toBe(true);
    expect(clean.verdicts.map((v) => v.metric)).toEqual(["maxErrorRate", "invariants.stock", "invariants.charges"]);

    answer = duplicateChargeReport(1);
    const violated = await judgeInvariants(thresholds, step);
    expect(violated.passed).toBe(false);
    expect(violated.verdicts.map((v) => [v.metric, v.passed])).toEqual([
      ["maxErrorRate", true],
      ["invariants.stock", true],
      ["invariants.charges", false],
      ["invariants.charges.duplicate_charge", false],
    ]);

    answer = null;
    const unanswered = await judgeInvariants(thresholds, step);
    expect(unanswered.passed).toBe(false);
    expect(unanswered.verdicts.at(-1)).toMatchObject({ metric: "invariants", actual: null, passed: false });
    expect(unanswered.verdicts.at(-1)!.message).toMatch(/^invariants could not be checked after the load: /);
  });
});
