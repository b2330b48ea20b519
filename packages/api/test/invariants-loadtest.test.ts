// The load tester's post-run invariant check against the real service: the CLI runs as its own
// process (as an operator runs it; it imports nothing from the server) with a real checkout, and
// reads admin.invariants over HTTP. Clean shop → exit 0; a corrupted database → exit 1 and a failing
// verdict; no token → exit 2 before any load; `pnpm start`'s development token file → no token to set.
import { randomBytes, randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./support/app.ts";
import { startTestAppOn } from "./support/app-on-database.ts";

const LOADTEST_DIR = fileURLToPath(new URL("../../loadtest", import.meta.url));
const ADMIN_TOKEN = `loadtest_${randomBytes(24).toString("hex")}`;
/** For the tests that run the CLI (node + tsx + Artillery): on a busy machine a run takes a while. */
const CLI_TEST = { timeout: 120_000 };

let t: TestApp;
let workDir: string;
beforeAll(async () => {
  t = await startTestApp({ ADMIN_API_TOKENS: `loadtest:${ADMIN_TOKEN}` });
  workDir = mkdtempSync(path.join(tmpdir(), "invariants-loadtest-"));
});
afterAll(async () => {
  await t?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** One shopper checking out with a sandbox card, as tests/performance/checkout-journey.yml does. */
function checkoutScript(paymentUrl: string, plugin = "    checkout-invariants:\n      adminTokenEnv: TEST_ADMIN_TOKEN"): string {
  const file = path.join(workDir, `checkout-${randomUUID()}.yml`);
  writeFileSync(
    file,
    `config:
  target: "http://localhost:1"
  phases:
    - duration: 1
      arrivalCount: 1
  defaults:
    headers:
      content-type: "application/json"
  plugins:
${plugin}
    ensure:
      maxErrorRate: 0
scenarios:
  - name: check out
    flow:
      - post:
          url: "/trpc/cart.create"
          json: { currency: "USD" }
          capture: [{ json: "$.result.data.id", as: cartId }]
      - post:
          url: "/trpc/cart.addLine"
          json: { cartId: "{{ cartId }}", sku: "TOTE", quantity: 2 }
      - post:
          url: "/trpc/checkout.setContact"
          json: { cartId: "{{ cartId }}", email: "load@example.com" }
      - post:
          url: "/trpc/checkout.setShippingAddress"
          json:
            cartId: "{{ cartId }}"
            address: { name: "Load Tester", line1: "500 Howard St", city: "San Francisco", region: "CA", postalCode: "94105", country: "US" }
      - post:
          url: "/trpc/checkout.setShippingOption"
          json: { cartId: "{{ cartId }}", optionId: "standard" }
      - post:
          url: "/trpc/checkout.quote"
          json: { cartId: "{{ cartId }}" }
          capture: [{ json: "$.result.data.id", as: quoteId }]
      - post:
          url: "${paymentUrl}/v1/tokens"
          json: { number: "4242424242424242", expMonth: 12, expYear: 2035, cvc: "123" }
          capture: [{ json: "$.id", as: paymentToken }]
      - post:
          url: "/trpc/checkout.placeOrder"
          headers: { idempotency-key: "{{ $uuid() }}" }
          json: { cartId: "{{ cartId }}", quoteId: "{{ quoteId }}", paymentToken: "{{ paymentToken }}" }
          expect: [{ statusCode: 200 }]
`,
  );
  return file;
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  verdicts: { metric: string; passed: boolean; actual: number | null; message: string }[];
}

/** `checkout-loadtest run SCRIPT --target URL --output …` in its own process, with only the environment given. */
function runCli(script: string, target: string, env: Record<string, string>): Promise<CliRun> {
  const output = path.join(workDir, `result-${randomUUID()}.json`);
  const { CHECKOUT_ADMIN_TOKEN: _ignored, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/cli.ts", "run", script, "--target", target, "--output", output],
      // A file that never exists unless a test says otherwise, so a developer's running shop cannot leak in.
      { cwd: LOADTEST_DIR, env: { ...inherited, CHECKOUT_ADMIN_TOKEN_FILE: path.join(workDir, "absent"), ...env }, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        if (code === -1) return reject(error);
        const verdicts = existsSync(output) ? (JSON.parse(readFileSync(output, "utf8")) as { verdicts: CliRun["verdicts"] }).verdicts : [];
        resolve({ code, stdout, stderr, verdicts });
      },
    );
  });
}

async function countOrders(app: TestApp): Promise<number> {
  const row = await app.database.db
    .selectFrom("order")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("checkout-loadtest run with config.plugins.checkout-invariants", () => {
  it("passes after a real checkout, printing and saving the invariant verdicts beside the thresholds", CLI_TEST, async () => {
    const run = await runCli(checkoutScript(t.app.paymentUrl), t.app.url, { TEST_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(run.stderr).toContain(`invariants: the admin API at ${t.app.url} answers (token from TEST_ADMIN_TOKEN); checked again after the load`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await countOrders(t)).toBe(1);
    expect(run.stdout).toMatch(/^pass {2}invariant stock: orders within stock for \d+ SKUs: 2 units held by live orders \+ \d+ available = \d+ received$/m);
    expect(run.stdout).toContain("pass  invariant charges: 1 order (captured 1), 1 charge (1 captured, 0 authorised)");
    expect(run.stdout).toMatch(/verdict: PASS$/m);
    expect(run.verdicts.map((v) => [v.metric, v.passed])).toEqual([
      ["maxErrorRate", true],
      ["arrivals.on_schedule", true],
      ["invariants.stock", true],
      ["invariants.charges", true],
    ]);
  });

  it("fails with exit 1 and names the violation when the database was corrupted", CLI_TEST, async () => {
    const order = await t.database.db.selectFrom("order").selectAll().executeTakeFirstOrThrow();
    const payment = await t.database.db.selectFrom("payment").selectAll().where("order_id", "=", order.id).executeTakeFirstOrThrow();
    await t.database.db
      .insertInto("payment")
      .values({ ...payment, id: randomUUID(), provider_reference: `auth_${randomUUID()}` })
      .execute();

    const run = await runCli(checkoutScript(t.app.paymentUrl), t.app.url, { TEST_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain("; 1 violation before the load already; checked again after the load");
    expect(run.stdout).toContain("pass  maxErrorRate");
    expect(run.stdout).toContain("FAIL  invariant charges: 1 violation (duplicate_charge 1); already 1 before the load");
    expect(run.stdout).toContain(`FAIL  duplicate_charge: order ${order.number} (captured, total ${order.total} USD) has 2 charges (2 captures); expected at most one`);
    expect(run.stdout).toMatch(/verdict: FAIL$/m);
    expect(run.verdicts.filter((v) => !v.passed).map((v) => [v.metric, v.actual])).toEqual([
      ["invariants.charges", 1],
      ["invariants.charges.duplicate_charge", 1],
    ]);
  });

  // The two refusals run side by side: neither starts any load.
  it.concurrent("stops with exit 2 before any load when no token is set, saying what to set", CLI_TEST, async () => {
    const before = await countOrders(t);
    const run = await runCli(checkoutScript(t.app.paymentUrl), t.app.url, {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`config.plugins.checkout-invariants: set TEST_ADMIN_TOKEN to an admin token of the service at ${t.app.url}`);
    expect(run.stderr).toContain("The run was not started.");
    expect(run.stdout).toBe("");
    expect(await countOrders(t)).toBe(before);
  });

  it.concurrent("stops with exit 2 before any load when the admin API refuses the token", CLI_TEST, async () => {
    const run = await runCli(checkoutScript(t.app.paymentUrl), t.app.url, { TEST_ADMIN_TOKEN: `wrong_${randomBytes(24).toString("hex")}` });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("refused the token from TEST_ADMIN_TOKEN (401)");
  });
});

describe("the local developer path", () => {
  let dev: TestApp;
  let isDevClosed = false;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "invariants-dev-data-"));
    // As `pnpm start` runs: development, no ADMIN_API_TOKENS, so a token is generated.
    dev = await startTestApp({ NODE_ENV: "development", DATA_DIR: dataDir });
  });
  afterAll(async () => {
    if (!isDevClosed) await dev?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("writes the generated token to DATA_DIR/admin-token, readable by its owner only", () => {
    const file = path.join(dataDir, "admin-token");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, "utf8").trim();
    expect(dev.logs.some((line) => line.includes(token) && line.includes("admin API token for this run"))).toBe(true);
  });

  it("runs the checkout journey's invariant check with no token to set", CLI_TEST, async () => {
    const file = path.join(dataDir, "admin-token");
    const run = await runCli(checkoutScript(dev.app.paymentUrl, "    checkout-invariants:"), dev.app.url, { CHECKOUT_ADMIN_TOKEN_FILE: file });
    expect(run.stderr).toContain(`(token from ${file})`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("pass  invariant charges: 1 order (captured 1)");
  });

  it("removes the token file when the service stops", async () => {
    const file = path.join(dataDir, "admin-token");
    await dev.close();
    isDevClosed = true;
    expect(existsSync(file)).toBe(false);
  });

  it("never writes a token file in tests, where a generated token is used too", async () => {
    const testDataDir = mkdtempSync(path.join(tmpdir(), "invariants-test-data-"));
    // On the first service's database: only the start-up's token handling is under test.
    const app = await startTestAppOn(t.database, { DATA_DIR: testDataDir });
    try {
      expect(app.logs.some((line) => line.includes("admin API token for this run"))).toBe(true);
      expect(existsSync(path.join(testDataDir, "admin-token"))).toBe(false);
    } finally {
      await app.close();
      rmSync(testDataDir, { recursive: true, force: true });
    }
  });
});
