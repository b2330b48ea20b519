#!/usr/bin/env -S node --import tsx
// The load tester's command line: a command, its own options (anything else is a usage error, exit 2, one line naming
// it), and `--help` on any command printing that command's help and doing nothing else.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseScript } from "./script/parse-script.ts";
import { quickScript } from "./script/quick-script.ts";
import { ScriptError } from "./script/script-types.ts";
import { renderReport, type SavedRun } from "./report/render-report.ts";
import { executeMonitor, MonitorUsageError } from "./monitor/monitor-command.ts";
import { executePlan, parsePlanFlags, PlanUsageError } from "./plan/plan-command.ts";
import { runGenerator, runLoad } from "./load-commands.ts";
import { CI_OPTIONS, CI_OPTIONS_HELP } from "./ci/ci-outputs.ts";
import { compareCommand, CompareUsageError } from "./compare/compare-command.ts";
import { DashboardError, takeDashboardFlags, type DashboardFlags } from "./dashboard/run-dashboard.ts";
import { FargateConfigError, StoreUrlError } from "./distributed/config-errors.ts";
import { lateThresholdFromEnv } from "./engine/run-script.ts";
import { DistributedUsageError } from "./distributed/run-files.ts";
import { GENERATOR_HELP, GENERATOR_SYNOPSIS, GeneratorUsageError } from "./distributed/generator-help.ts";

const PROGRAM = "checkout-loadtest";

const EXIT_CODES = `Exit codes: 0 thresholds pass, 1 a threshold fails (or the run could not keep to its schedule, or an invariant of
config.plugins.checkout-invariants is violated or could not be checked after the load), 2 script or usage error
(including an admin token missing or refused before the load).`;

type Options = NonNullable<ParseArgsConfig["options"]>;

interface Command {
  /** One line per form of the command, without the program name. */
  synopsis: string[];
  /** What it does and what its options mean. */
  help: string;
  options: Options;
  /** Positional arguments it takes at most. */
  positionals: number;
  /** `dashboard`: run's and quick's `--dashboard [PORT]` and `--dashboard-linger S`, taken out before parseArgs. */
  execute(values: Record<string, string | boolean | undefined>, positionals: string[], dashboard?: DashboardFlags): Promise<number> | number;
}

const planOptions = {
  "target-rps": { type: "string" },
  headroom: { type: "string" },
  processes: { type: "string" },
  window: { type: "string" },
} satisfies Options;

const planHelp = `  --target-rps N   the rate to plan for (default: the highest rate the run held)
  --headroom F     spare capacity to keep, as a fraction (default 0.3)
  --processes N    API processes that served the run (default 1)
  --window S       seconds per window when looking for the knee (default 5)`;

const distributedHelp = `  --on local|fargate      spread the load over generators: local processes, or ECS Fargate tasks of the
                          LoadGenerators stack (README: Distributed runs); judged once, on the merged result
  --generators N          how many generators (run also takes --count N); each runs exactly 1/N of the arrivals
  --store DIR|s3://B/P    where the run's job and results go (default: a temporary folder; Fargate: its bucket)
  --fargate-config FILE   the LoadGenerators stack's outputs (default: LOADTEST_FARGATE_* or .sst/outputs.json)
  --start-delay SECONDS   time from launch to the common start, for generators to boot (default 3 local, 90 Fargate)`;

const distributedOptions = {
  on: { type: "string" },
  generators: { type: "string" },
  store: { type: "string" },
  "fargate-config": { type: "string" },
  "start-delay": { type: "string" },
} satisfies Options;

const runOutputHelp = `  -o, --output FILE       save the result as JSON (for report, plan and compare)
  --workers N             load-generating threads (default: from the planned peak rate)
  --dashboard [PORT]      a live page of the report at http://127.0.0.1:PORT/ (a free port if none; printed on stderr)
  --dashboard-linger S    keep serving the final report S seconds after the verdict (Ctrl-C ends it)
  LOADTEST_LATE_MS=N      an arrival launched more than N ms after its planned time counts as late (default 10)
${CI_OPTIONS_HELP}`;

const commands: Record<string, Command> = {
  run: {
    synopsis: [
      `run SCRIPT.yml [-e ENV] [-v '{"name": value}'] [--scenario-name NAME] [--target URL] [--overrides JSON] [--output result.json] [--workers N | --on local|fargate --count N] [--summary FILE] [--junit FILE] [--dashboard [PORT]]`,
    ],
    help: `Runs an Artillery-v2 YAML script open-model, judges its ensure thresholds and conditions, the schedule and the
shop's invariants, and prints the verdict.

  -e, --environment NAME  merge config.environments.NAME into config
  -v, --variables JSON    replace or add config.variables
  --scenario-name NAME    run only this scenario (its name or a regular expression)
  -t, --target URL        override config.target
  --overrides JSON        deep-merge into the script, as Artillery's --overrides (after -e; a list replaces a list)
${runOutputHelp}
${distributedHelp}

${EXIT_CODES}`,
    options: {
      target: { type: "string", short: "t" },
      environment: { type: "string", short: "e" },
      variables: { type: "string", short: "v" },
      "scenario-name": { type: "string" },
      overrides: { type: "string" },
      output: { type: "string", short: "o" },
      workers: { type: "string" },
      count: { type: "string" },
      ...distributedOptions,
      ...CI_OPTIONS,
    },
    positionals: 1,
    execute(values, [file], dashboard) {
      if (!file) throw new UsageError("run needs a script file");
      const workers = workerCount(values.workers);
      const distributed = distributedFlags(values, values.count ?? values.generators, values.count !== undefined ? "--count" : "--generators");
      const text = readFileSync(file, "utf8");
      const script = parseScript(text, {
        path: file,
        baseDir: path.dirname(path.resolve(file)),
        targetOverride: stringValue(values.target),
        environment: stringValue(values.environment),
        variablesJson: stringValue(values.variables),
        scenarioName: stringValue(values["scenario-name"]),
        overridesJson: stringValue(values.overrides),
      });
      const ci = { summary: stringValue(values.summary), junit: stringValue(values.junit) };
      const described = { path: file, environment: stringValue(values.environment) ?? null, scenario: stringValue(values["scenario-name"]) ?? null };
      return runLoad(script, { output: stringValue(values.output), workers, ...ci, described, dashboard, distributed });
    },
  },
  quick: {
    synopsis: [
      "quick --count N --num M [--max-error-rate PERCENT] [--output result.json] [--workers N] [--summary FILE] [--junit FILE] [--dashboard [PORT]] URL",
      "quick --rate R --duration SECONDS [--max-error-rate PERCENT] [--output result.json] [--workers N] [--summary FILE] [--junit FILE] [--dashboard [PORT]] URL",
    ],
    help: `Loads one URL without a script: --count virtual users each sending --num GET requests, or --rate arrivals a second
for --duration seconds.

  --count N               virtual users (default 1)
  --num M                 requests each (default 1)
  --rate R                arrivals a second (open model)
  --duration SECONDS      how long to keep --rate (default 10)
  --max-error-rate PERCENT
                          the verdict fails when more than this share of virtual users failed (no answer, a
                          timeout) or of answers were 5xx (default 0: every request answered, none with a 5xx)
${runOutputHelp}
${distributedHelp}

${EXIT_CODES}`,
    options: {
      count: { type: "string" },
      num: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      "max-error-rate": { type: "string" },
      output: { type: "string", short: "o" },
      workers: { type: "string" },
      ...distributedOptions,
      ...CI_OPTIONS,
    },
    positionals: 1,
    execute(values, [url], dashboard) {
      if (!url) throw new UsageError("quick needs a URL");
      const workers = workerCount(values.workers);
      const distributed = distributedFlags(values, values.generators, "--generators");
      const rate = positive(values.rate, "--rate");
      const maxErrorRate = percentage(values["max-error-rate"], "--max-error-rate");
      const script = rate
        ? quickScript({ url, rate, duration: positive(values.duration, "--duration") ?? 10, maxErrorRate })
        : quickScript({ url, count: positive(values.count, "--count") ?? 1, num: positive(values.num, "--num") ?? 1, maxErrorRate });
      return runLoad(script, { output: stringValue(values.output), workers, summary: stringValue(values.summary), junit: stringValue(values.junit), dashboard, distributed });
    },
  },
  report: {
    synopsis: ["report result.json [--out report.html] [--target-rps N [--headroom 0.3] [--processes 1] [--window 5]]"],
    help: `Writes the HTML report of a result saved by run --output (next to it, or --out); with --target-rps it holds a
capacity plan too.

  --out FILE       where to write the report (default: result.html)
${planHelp}`,
    options: { out: { type: "string" }, ...planOptions },
    positionals: 1,
    execute(values, [file]) {
      if (!file) throw new UsageError("report needs a result.json written by run --output");
      let saved: SavedRun;
      try {
        saved = JSON.parse(readFileSync(file, "utf8")) as SavedRun;
      } catch (error) {
        if (error instanceof SyntaxError) throw new UsageError(`${file} is not a result written by run --output (not JSON)`);
        throw error;
      }
      if (saved?.version !== 1 || !saved.histograms) throw new UsageError(`${file} is not a result written by run --output`);
      const out = stringValue(values.out) ?? `${file.replace(/\.json$/i, "")}.html`;
      writeFileSync(out, renderReport(saved, { plan: parsePlanFlags(values as Record<string, string | undefined>) }));
      console.log(`report written to ${out}`);
      return 0;
    },
  },
  plan: {
    synopsis: ["plan result.json [--target-rps N] [--headroom 0.3] [--processes 1] [--window 5] [--json]"],
    help: `Plans capacity from a stress run's result: the knee (the highest rate that met the thresholds) and the API
processes a target rate needs.

${planHelp}
  --json           print the plan as JSON

Exit codes: 0 a plan was made, 2 a usage error or a run that never met its thresholds.`,
    options: { ...planOptions, json: { type: "boolean" } },
    positionals: 1,
    execute: (values, [file]) => executePlan({ file, ...(values as Record<string, string | undefined>), json: values.json === true }),
  },
  monitor: {
    synopsis: ["monitor URL [--interval S] [--duration D] [--deep URL] [--timeout MS] [--output monitor.json]"],
    help: `Probes a URL until stopped (or for --duration) and reports availability against a 99.99 % budget.

  --interval S     seconds between probes (default 5)
  --duration D     how long to probe: 90, 90s, 15m, 1h (default: until Ctrl-C)
  --deep URL       a second, deeper probe (for example /ready)
  --timeout MS     a probe slower than this is down (default 2000)
  -o, --output FILE  save the probes as JSON

Exit codes: 0 downtime within the 99.99 % budget for the window, 1 over it, 2 a usage error.`,
    options: {
      interval: { type: "string" },
      duration: { type: "string" },
      deep: { type: "string" },
      timeout: { type: "string" },
      output: { type: "string", short: "o" },
    },
    positionals: 1,
    execute: (values, [url]) => executeMonitor({ url, ...(values as Record<string, string | undefined>) }),
  },
  compare: compareCommand,
  generator: {
    synopsis: [GENERATOR_SYNOPSIS],
    help: GENERATOR_HELP,
    options: { store: { type: "string" }, "run-id": { type: "string" }, index: { type: "string" }, count: { type: "string" } },
    positionals: 0,
    execute: (values) => runGenerator(values),
  },
};

class UsageError extends Error {}

function usage(): string {
  const forms = Object.values(commands).flatMap((command) => command.synopsis.map((line) => `  ${PROGRAM} ${line}`));
  return `Usage:\n${forms.join("\n")}\n\n${PROGRAM} COMMAND --help prints a command's options.\n\n${EXIT_CODES}`;
}

function commandHelp(command: Command): string {
  return `Usage:\n${command.synopsis.map((line) => `  ${PROGRAM} ${line}`).join("\n")}\n\n${command.help}`;
}

function stringValue(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function positive(value: string | boolean | undefined, name: string): number | undefined {
  if (typeof value !== "string") return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new UsageError(`${name} must be a positive number, got "${value}"`);
  return parsed;
}

/** A share in % from 0 to 100 (0 allowed, unlike positive()). */
function percentage(value: string | boolean | undefined, name: string): number | undefined {
  if (typeof value !== "string") return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < 0 || parsed > 100) throw new UsageError(`${name} must be a percentage from 0 to 100, got "${value}"`);
  return parsed;
}

/** --workers: load-generating threads; without it, defaultWorkerCount decides from the planned peak rate. */
function workerCount(value: string | boolean | undefined): number | undefined {
  const parsed = positive(value, "--workers");
  if (parsed !== undefined && !Number.isInteger(parsed)) throw new UsageError(`--workers must be a whole number, got "${String(value)}"`);
  return parsed;
}

/** `--on local|fargate` with its generator count (`--count` on run, `--generators` on both), or nothing. */
function distributedFlags(values: Record<string, string | boolean | undefined>, countValue: string | boolean | undefined, countName: string) {
  const on = stringValue(values.on);
  const given = ["store", "fargate-config", "start-delay", "generators", ...(countName === "--count" ? ["count"] : [])].filter((name) => values[name] !== undefined);
  if (on === undefined) {
    if (given.length > 0) throw new UsageError(`--${given[0]} needs --on local or --on fargate`);
    return undefined;
  }
  if (on !== "local" && on !== "fargate") throw new UsageError(`--on must be local or fargate, got "${on}"`);
  if (values.count !== undefined && values.generators !== undefined) throw new UsageError("give the number of generators once: --count or --generators");
  if (values.workers !== undefined) throw new UsageError("--workers is for a run in this process; with --on, each generator is a process of its own");
  const count = positive(countValue, countName);
  if (count === undefined) throw new UsageError(`--on ${on} needs ${countName} N, the number of generators`);
  if (!Number.isInteger(count) || count > 1000) throw new UsageError(`${countName} must be a whole number of generators from 1 to 1000, got "${String(countValue)}"`);
  if (values["fargate-config"] !== undefined && on !== "fargate") throw new UsageError("--fargate-config is only for --on fargate");
  const startDelay = positive(values["start-delay"], "--start-delay");
  if (startDelay !== undefined && startDelay > 3600) throw new UsageError(`--start-delay is in seconds, at most 3600, got "${String(values["start-delay"])}"`);
  return {
    on,
    count,
    store: stringValue(values.store),
    fargateConfigFile: stringValue(values["fargate-config"]),
    startDelayMs: startDelay === undefined ? undefined : startDelay * 1000,
  } as const;
}

/** node:util's parse errors, as one line a person can act on. */
function parseErrorLine(error: NodeJS.ErrnoException, command: string): string | undefined {
  const option = /'([^']+)'/.exec(error.message)?.[1];
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `${command}: unknown option ${option ?? error.message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `${command}: ${option ? `option ${option.split(" ")[0]}` : "an option"} needs a value`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `${command}: unexpected argument ${option ?? ""}`.trimEnd();
    default:
      return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : commands[name];
  const asksForHelp = argv.some((arg) => arg === "--help" || arg === "-h");
  // --help (or -h) anywhere, or `help [COMMAND]`: the help, and nothing else.
  if (name === "help" || (asksForHelp && !command)) {
    const topic = name === "help" ? commands[rest[0] ?? ""] : undefined;
    console.log(topic ? commandHelp(topic) : usage());
    return 0;
  }
  if (!command || !name) throw new UsageError(name ? `unknown command "${name}"` : "no command given");
  if (asksForHelp) {
    console.log(commandHelp(command));
    return 0;
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  let dashboard: DashboardFlags | undefined;
  try {
    // `--dashboard [PORT]` has an optional value, which parseArgs cannot express: run and quick take it out first.
    let args = rest;
    if (name === "run" || name === "quick") ({ args, dashboard } = takeDashboardFlags(rest));
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: command.options }) as typeof parsed;
  } catch (error) {
    if (error instanceof DashboardError) throw new ShortUsageError(`${name}: ${error.message}`, name);
    const line = error instanceof Error ? parseErrorLine(error as NodeJS.ErrnoException, name) : undefined;
    if (line) throw new ShortUsageError(line, name);
    throw error;
  }
  if (parsed.positionals.length > command.positionals) {
    throw new ShortUsageError(`${name}: unexpected argument ${parsed.positionals[command.positionals]}`, name);
  }
  if (name === "run" || name === "quick" || name === "generator") {
    try {
      lateThresholdFromEnv();
    } catch (error) {
      throw new ShortUsageError(`${name}: ${(error as Error).message}`, name);
    }
  }
  try {
    return await command.execute(parsed.values, parsed.positionals, dashboard);
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof MonitorUsageError ||
      error instanceof PlanUsageError ||
      error instanceof CompareUsageError ||
      error instanceof GeneratorUsageError ||
      error instanceof DashboardError ||
      error instanceof DistributedUsageError ||
      error instanceof StoreUrlError ||
      error instanceof FargateConfigError
    )
      throw new ShortUsageError(error.message.startsWith(`${name} `) ? error.message : `${name}: ${error.message}`, name);
    throw error;
  }
}

/** A mistyped option or a stray argument: one line naming it and where the help is, not the whole usage. */
class ShortUsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ShortUsageError) {
      console.error(`${error.message} (see ${PROGRAM} ${error.command} --help)`);
      process.exit(2);
    }
    if (error instanceof ScriptError || error instanceof UsageError || error instanceof MonitorUsageError || error instanceof PlanUsageError) {
      const isUsage = error instanceof UsageError || error instanceof MonitorUsageError || error instanceof PlanUsageError;
      console.error(isUsage ? `${error.message}\n\n${usage()}` : error.message);
      process.exit(2);
    }
    if (error instanceof Error && "code" in error && (error as NodeJS.ErrnoException).code === "ENOENT") {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    process.exit(3);
  },
);
