// Waits for the API service's ECS blue/green deployment to finish and fails if ECS stopped it or rolled it back
// (deployment alarm, circuit breaker, or by hand): `sst deploy` returns once CloudFormation is done, before the bake time.
import { CloudFormationClient, DescribeStackResourcesCommand } from "@aws-sdk/client-cloudformation";
import { ECSClient, ListServiceDeploymentsCommand, type ServiceDeploymentBrief } from "@aws-sdk/client-ecs";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const HELP = `
tsx scripts/release/wait-for-ecs-deployment.ts (--stage STAGE | --cluster CLUSTER --service SERVICE) [options]

Waits until the newest ECS service deployment of the checkout API (created at or after --since) has finished, bake time
included. Exit 0 when it succeeded (or none was created: the task definition did not change), 1 when ECS rolled it back
or it was stopped, 124 on timeout, 2 for a usage error.

  --stage STAGE          find the service in the CloudFormation stack STAGE-checkout-Api
  --cluster, --service   or name them (name or ARN)
  --since ISO-TIME       only deployments created at or after this time (default: the newest deployment)
  --timeout-minutes N    give up after N minutes (default 45: a blue/green release bakes for 10)
  --interval-seconds N   poll every N seconds (default 15)
  --region REGION        default: AWS_REGION
`;

export const EXIT = { succeeded: 0, failed: 1, usage: 2, timedOut: 124 } as const;

/** Statuses after which nothing more happens; a rollback counts as a failed release as soon as it is requested. */
const ROLLED_BACK = new Set(["ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"]);
const STOPPED = new Set(["STOPPED", "STOP_REQUESTED"]);

export class UsageError extends Error {}

export interface ServiceRef {
  cluster: string;
  service: string;
}

/** The cluster and service of the stage's API, from the Api stack's AWS::ECS::Service (its physical id is the service ARN). */
export async function findApiService({ cloudformation, stage }: { cloudformation: CloudFormationClient; stage: string }): Promise<ServiceRef> {
  const stackName = `${stage}-checkout-Api`;
  const { StackResources: resources = [] } = await cloudformation.send(new DescribeStackResourcesCommand({ StackName: stackName }));
  const arn = resources.find((resource) => resource.ResourceType === "AWS::ECS::Service")?.PhysicalResourceId;
  // arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE
  const match = arn?.match(/^arn:aws[\w-]*:ecs:[^:]+:\d+:service\/([^/]+)\/([^/]+)$/);
  if (!match?.[1] || !match[2]) throw new UsageError(`${stackName} has no ECS service (found ${arn ?? "none"})`);
  return { cluster: match[1], service: match[2] };
}

export interface WaitOutcome {
  code: (typeof EXIT)[keyof typeof EXIT];
  message: string;
  deployment?: ServiceDeploymentBrief;
}

/** Polls the service's deployments until the newest one since `since` succeeds, rolls back, stops, or the time runs out. */
export async function waitForEcsDeployment(options: {
  ecs: ECSClient;
  target: ServiceRef;
  since?: Date;
  timeoutMs: number;
  intervalMs: number;
  log?: (message: string) => void;
  /** Injected by tests: the clock and the pause between polls. */
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}): Promise<WaitOutcome> {
  const { ecs, target, since, timeoutMs, intervalMs, log = console.log, now = Date.now, sleep = delay } = options;
  const deadline = now() + timeoutMs;
  let lastStatus = "";
  for (;;) {
    const { serviceDeployments = [] } = await ecs.send(
      new ListServiceDeploymentsCommand({ cluster: target.cluster, service: target.service, ...(since ? { createdAt: { after: since } } : {}) }),
    );
    const newest = [...serviceDeployments].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
    if (!newest) return { code: EXIT.succeeded, message: `no deployment of ${target.service}${since ? ` since ${since.toISOString()}` : ""}: nothing changed` };
    const status = newest.status ?? "UNKNOWN";
    const what = `${newest.serviceDeploymentArn ?? "deployment"} ${status}${newest.statusReason ? ` (${newest.statusReason})` : ""}`;
    if (status !== lastStatus) log(`[wait-for-ecs] ${what}`);
    lastStatus = status;
    if (status === "SUCCESSFUL") return { code: EXIT.succeeded, message: `succeeded: ${what}`, deployment: newest };
    if (ROLLED_BACK.has(status)) return { code: EXIT.failed, message: `ECS rolled the release back: ${what}`, deployment: newest };
    if (STOPPED.has(status)) return { code: EXIT.failed, message: `the deployment was stopped: ${what}`, deployment: newest };
    if (now() + intervalMs > deadline) {
      return { code: EXIT.timedOut, message: `still ${status} after ${Math.round(timeoutMs / 60_000)} min: ${what}`, deployment: newest };
    }
    await sleep(intervalMs);
  }
}

function positive({ name, value, fallback }: { name: string; value: string | undefined; fallback: number }): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`--${name} must be a positive number, got "${value}"`);
  return number;
}

async function main(argv: string[]): Promise<number> {
  // --help wins wherever it is, even beside an option this command does not take.
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP.trim());
    return EXIT.succeeded;
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean", short: "h" },
      stage: { type: "string" },
      cluster: { type: "string" },
      service: { type: "string" },
      since: { type: "string" },
      "timeout-minutes": { type: "string" },
      "interval-seconds": { type: "string" },
      region: { type: "string" },
    },
  });
  if (values.help) {
    console.log(HELP.trim());
    return EXIT.succeeded;
  }
  const region = values.region ?? process.env.AWS_REGION;
  const since = values.since ? new Date(values.since) : undefined;
  if (since && Number.isNaN(since.getTime())) throw new UsageError(`--since must be an ISO time, got "${values.since}"`);
  const timeoutMs = positive({ name: "timeout-minutes", value: values["timeout-minutes"], fallback: 45 }) * 60_000;
  const intervalMs = positive({ name: "interval-seconds", value: values["interval-seconds"], fallback: 15 }) * 1000;
  let target: ServiceRef;
  if (values.cluster && values.service) target = { cluster: values.cluster, service: values.service };
  else if (values.stage) target = await findApiService({ cloudformation: new CloudFormationClient({ region }), stage: values.stage });
  else throw new UsageError("give --stage, or --cluster and --service");
  console.log(`[wait-for-ecs] waiting for ${target.service} in ${target.cluster} (timeout ${timeoutMs / 60_000} min)`);
  const outcome = await waitForEcsDeployment({ ecs: new ECSClient({ region }), target, since, timeoutMs, intervalMs });
  (outcome.code === EXIT.succeeded ? console.log : console.error)(`[wait-for-ecs] ${outcome.message}`);
  return outcome.code;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2)).catch((error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
      console.error(`[wait-for-ecs] ${error.message.split("\n")[0]} (see --help)`);
      return EXIT.usage;
    }
    console.error(`[wait-for-ecs] FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  });
  process.exit(code);
}
