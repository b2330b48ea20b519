// The release's smoke load test: the checkout journey's smoke run (one shopper a second for a minute) against a deployed stage, with the script's own
// thresholds (ensure) and the shop's invariants (admin.invariants before and after), using the stage's admin token; its summary and JUnit XML for
// CI, and, given the last release's result, a comparison with it that fails on a regression the data shows.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const JOURNEY = "tests/performance/checkout-journey.yml";

/** How much worse than the last release the smoke run may be: its sample is small (a minute at one shopper a second), so the limits are wide. */
export const SMOKE_MAX_REGRESSION = "p50=20%,p95=25%,error_rate=0.5";

const HELP = `
tsx scripts/release/smoke-load-test.ts --target URL --payment-url URL [--stage STAGE] [--output FILE] [--summary FILE]
    [--junit FILE] [--baseline FILE [--max-regression SPEC]]

Waits until URL/ready answers 200 (up to --ready-timeout-seconds, default 300), then runs
\`pnpm loadtest run ${JOURNEY} -e smoke\` against it: its thresholds (p95 < 500 ms, error rate < 1 %) and the post-run
invariants (orders within stock, every paid order charged once, every acknowledged order exists once) decide the exit
code (0 pass, 1 fail, 2 usage). Writes the result (--output, default smoke-result.json), an HTML report beside it, the
run's summary JSON (--summary, default smoke-summary.json) and JUnit XML (--junit, default smoke-junit.xml).

With --baseline (the result an earlier release's smoke test wrote), \`pnpm loadtest compare\` then judges this run
against it: a metric fails when even the favourable end of its 95 % confidence interval is worse than
--max-regression (default ${SMOKE_MAX_REGRESSION}). A regression fails the smoke test (exit 1) like a threshold;
the comparison's JUnit and HTML are written beside the result (smoke-result-compare.xml, smoke-result-compare.html).
In the release workflow the baseline is the staging-smoke-load-test artifact of the last successful release.

  --target URL        the stage's public URL (CloudFront), e.g. https://staging.shop.example.com
  --payment-url URL   the payment provider's test-mode token endpoint base (the journey posts cards to /v1/tokens)
  --stage STAGE       read the admin token from Secrets Manager checkout/STAGE/admin-api-tokens (JSON key "tokens",
                      "name:token,…"); without it, CHECKOUT_ADMIN_TOKEN must be set
`;

export class UsageError extends Error {}

/** The first token of an ADMIN_API_TOKENS value ("name:token,name:token"). */
export function firstAdminToken({ tokens }: { tokens: string }): string {
  const first = tokens.split(",")[0]?.trim() ?? "";
  const token = first.slice(first.indexOf(":") + 1);
  if (first.indexOf(":") < 1 || token.length < 32) throw new UsageError('the admin token secret must hold {"tokens": "name:token,…"} with a token of 32+ characters');
  return token;
}

async function adminTokenFromSecret({ stage, region }: { stage: string; region: string | undefined }): Promise<string> {
  const client = new SecretsManagerClient({ region });
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: `checkout/${stage}/admin-api-tokens` }));
  const parsed = JSON.parse(SecretString ?? "{}") as { tokens?: unknown };
  if (typeof parsed.tokens !== "string") throw new UsageError(`checkout/${stage}/admin-api-tokens has no "tokens" key`);
  return firstAdminToken({ tokens: parsed.tokens });
}

async function waitForReady({ target, timeoutMs }: { target: string; timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(new URL("/ready", target), { signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await delay(5000);
  }
  throw new Error(`${target}/ready did not answer 200 within ${timeoutMs / 1000} s (${last})`);
}

export interface SmokeFiles {
  target: string;
  paymentUrl: string;
  /** The run's result (`run --output`). */
  output: string;
  summary: string;
  junit: string;
  /** An earlier release's result to compare with. */
  baseline?: string;
  maxRegression: string;
}

/** The load tester's command lines, in order: the run itself, its HTML report, and the comparison when there is a baseline. */
export function loadtestCommands(files: SmokeFiles): { run: string[]; report: string[]; compare: string[] | null } {
  const stem = files.output.replace(/\.json$/, "");
  return {
    run: [
      "run",
      JOURNEY,
      "-e",
      "smoke",
      "--target",
      files.target,
      "-v",
      JSON.stringify({ paymentUrl: files.paymentUrl }),
      "--output",
      files.output,
      "--summary",
      files.summary,
      "--junit",
      files.junit,
    ],
    report: ["report", files.output, "--out", `${stem}.html`],
    compare: files.baseline
      ? ["compare", files.baseline, files.output, "--max-regression", files.maxRegression, "--junit", `${stem}-compare.xml`, "--out", `${stem}-compare.html`]
      : null,
  };
}

/**
 * Runs the commands with `loadtest` (which resolves to an exit code) and returns the smoke test's: the run's when it
 * failed, else the comparison's. The report, and the comparison after a failed run, help read a failure and never change it.
 */
export async function runSmoke(files: SmokeFiles, loadtest: (args: string[]) => Promise<number>, log: (line: string) => void = console.log): Promise<number> {
  const commands = loadtestCommands(files);
  log(`[smoke] ${JOURNEY} -e smoke against ${files.target}`);
  const code = await loadtest(commands.run);
  await loadtest(commands.report);
  if (!commands.compare) {
    log("[smoke] no baseline given: nothing to compare with");
    return code;
  }
  if (!existsSync(files.output)) return code;
  log(`[smoke] comparing with the baseline ${files.baseline}`);
  const compared = await loadtest(commands.compare);
  return code !== 0 ? code : compared;
}

/** The baseline must be a file before any load is sent: a wrong path is a usage error, not a release without a comparison. */
function checkBaseline(file: string | undefined): void {
  if (file === undefined) return;
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`--baseline ${file}: no such file (the result an earlier smoke test wrote with --output)`);
}

async function main(argv: string[]): Promise<number> {
  // --help wins wherever it is, even beside an option this command does not take.
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP.trim());
    return 0;
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean", short: "h" },
      target: { type: "string" },
      "payment-url": { type: "string" },
      stage: { type: "string" },
      output: { type: "string", default: "smoke-result.json" },
      summary: { type: "string", default: "smoke-summary.json" },
      junit: { type: "string", default: "smoke-junit.xml" },
      baseline: { type: "string" },
      "max-regression": { type: "string", default: SMOKE_MAX_REGRESSION },
      "ready-timeout-seconds": { type: "string", default: "300" },
    },
  });
  if (values.help) {
    console.log(HELP.trim());
    return 0;
  }
  if (!values.target || !values["payment-url"]) throw new UsageError("--target and --payment-url are required");
  checkBaseline(values.baseline);
  const token = values.stage ? await adminTokenFromSecret({ stage: values.stage, region: process.env.AWS_REGION }) : process.env.CHECKOUT_ADMIN_TOKEN;
  if (!token) throw new UsageError("give --stage (token from Secrets Manager) or set CHECKOUT_ADMIN_TOKEN");
  console.log(`[smoke] waiting for ${values.target}/ready`);
  await waitForReady({ target: values.target, timeoutMs: Number(values["ready-timeout-seconds"]) * 1000 });
  const env = { ...process.env, CHECKOUT_ADMIN_TOKEN: token };
  const loadtest = async (args: string[]) => spawnSync("pnpm", ["loadtest", ...args], { cwd: repoRoot, env, stdio: "inherit" }).status ?? 1;
  // The load tester runs from the repository root: files are handed to it as absolute paths from where this was started.
  const files = {
    target: values.target,
    paymentUrl: values["payment-url"],
    output: path.resolve(values.output),
    summary: path.resolve(values.summary),
    junit: path.resolve(values.junit),
    maxRegression: values["max-regression"],
  };
  return runSmoke({ ...files, baseline: values.baseline === undefined ? undefined : path.resolve(values.baseline) }, loadtest);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2)).catch((error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
      console.error(`[smoke] ${error.message.split("\n")[0]} (see --help)`);
      return 2;
    }
    console.error(`[smoke] FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  });
  process.exit(code);
}
