// Offline synthesis of the whole app for tests: no AWS credentials, no network, no Docker (NODE_ENV=test).
// SST's initProject sets global state, so test files run one at a time (vitest project "stacks").
import { initProject } from "sst/project.js";
import { App } from "sst/constructs";
import type { Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { addStacks } from "../index.ts";
import { stacksOf } from "../compliance.ts";

export interface NagFinding {
  stack: string;
  path: string;
  level: "error" | "warning";
  message: string;
}

export interface Synthesized {
  app: App;
  stacks: Stack[];
  /** The template of the stack whose id ends with this name (e.g. "Network"). */
  template(name: string): Template;
  /** cdk-nag findings left after suppressions, read before the templates (the reverse order throws). */
  findings: NagFinding[];
}

const cache = new Map<string, Promise<Synthesized>>();

async function build(stage: string): Promise<Synthesized> {
  process.env.NODE_ENV = "test";
  await initProject({ stage });
  const app = new App({ mode: "deploy", stage, name: "checkout", region: "us-east-1" });
  addStacks(app);
  await app.finish();
  const stacks = stacksOf(app);
  const findings: NagFinding[] = [];
  for (const stack of stacks) {
    const annotations = Annotations.fromStack(stack);
    for (const [level, list] of [
      ["error", annotations.findError("*", Match.anyValue())],
      ["warning", annotations.findWarning("*", Match.anyValue())],
    ] as const) {
      for (const entry of list) findings.push({ stack: stack.stackName, path: entry.id, level, message: String(entry.entry.data) });
    }
  }
  const templates = new Map(stacks.map((stack) => [stack.node.id, Template.fromStack(stack)]));
  return {
    app,
    stacks,
    findings,
    template(name) {
      const found = [...templates.entries()].find(([id]) => id === name || id.endsWith(`-${name}`));
      if (!found) throw new Error(`no stack named ${name}; stacks: ${[...templates.keys()].join(", ")}`);
      return found[1];
    },
  };
}

/** Synthesizes the app for a stage once per test file (cached). */
export function synthesize(stage = "test"): Promise<Synthesized> {
  let pending = cache.get(stage);
  if (!pending) {
    pending = build(stage);
    cache.set(stage, pending);
  }
  return pending;
}
