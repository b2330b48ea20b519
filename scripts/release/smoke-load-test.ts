// The release's smoke load test: the checkout journey's smoke run (one shopper a second for a minute) against a deployed stage, with the script's own
// thresholds (ensure) and the shop's invariants (admin.invariants before and after), using the stage's admin token.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const JOURNEY = "tests/performance/checkout-journey.yml";

const HELP = `
tsx scripts/release/smoke-load-test.ts --target URL --payment-url URL [--stage STAGE] [--output FILE]

Waits until URL/ready answers 200 (up to --ready-timeout-seconds, default 300), then runs
\`pnpm loadtest run ${JOURNEY} -e smoke\` against it: its thresholds (p95 < 500 ms, error rate < 1 %) and the post-run
invariants (orders within stock, every paid order charged once, every acknowledged order exists once) decide the exit
code (0 pass, 1 fail, 2 usage). Writes the result (--output, default smoke-result.json) and an HTML report beside it.

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

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean", short: "h" },
      target: { type: "string" },
      "payment-url": { type: "string" },
      stage: { type: "string" },
      output: { type: "string", default: "smoke-result.json" },
      "ready-timeout-seconds": { type: "string", default: "300" },
    },
  });
  if (values.help) {
    console.log(HELP.trim());
    return 0;
  }
  if (!values.target || !values["payment-url"]) throw new UsageError("--target and --payment-url are required");
  const token = values.stage ? await adminTokenFromSecret({ stage: values.stage, region: process.env.AWS_REGION }) : process.env.CHECKOUT_ADMIN_TOKEN;
  if (!token) throw new UsageError("give --stage (token from Secrets Manager) or set CHECKOUT_ADMIN_TOKEN");
  console.log(`[smoke] waiting for ${values.target}/ready`);
  await waitForReady({ target: values.target, timeoutMs: Number(values["ready-timeout-seconds"]) * 1000 });
  const env = { ...process.env, CHECKOUT_ADMIN_TOKEN: token };
  const run = (args: string[]) => spawnSync("pnpm", ["loadtest", ...args], { cwd: repoRoot, env, stdio: "inherit" }).status ?? 1;
  console.log(`[smoke] ${JOURNEY} -e smoke against ${values.target}`);
  const code = run(["run", JOURNEY, "-e", "smoke", "--target", values.target, "-v", JSON.stringify({ paymentUrl: values["payment-url"] }), "--output", values.output]);
  // The report helps read a failure too; its own exit code does not change the verdict.
  run(["report", values.output, "--out", `${values.output.replace(/\.json$/, "")}.html`]);
  return code;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2)).catch((error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
      console.error(`[smoke] ${error.message}\n${HELP}`);
      return 2;
    }
    console.error(`[smoke] FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  });
  process.exit(code);
}
