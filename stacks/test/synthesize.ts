// Offline synthesis of the whole app for tests: no AWS credentials, no network, no Docker (NODE_ENV=test).
// SST's initProject sets global state, so test files run one at a time (vitest project "stacks").
import { initProject } from "sst/project.js";
import { App } from "sst/constructs";
import type { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { addStacks } from "../index.ts";
import { stacksOf } from "../compliance.ts";
import { regionForStage } from "../stages.ts";
import { PAYMENT_META_TAG, PREBUILT_WEB_CONTEXT } from "../Web.ts";

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
  /** cdk-nag findings (and CDK's own warnings) left after suppressions, from the same single synthesis as the templates. */
  findings: NagFinding[];
}

const cache = new Map<string, Promise<Synthesized>>();

/**
 * A stand-in for packages/web/dist (StaticSite packages a build output at synthesis): a page with the payment meta
 * tag the deploy rewrites and one asset, so synthesis neither runs Vite nor depends on a build lying around.
 */
export function prebuiltWebStub(): string {
  const dir = path.resolve(".sst", "test-web-dist");
  mkdirSync(path.join(dir, "assets"), { recursive: true });
  writeFileSync(path.join(dir, "index.html"), `<!doctype html><html><head>${PAYMENT_META_TAG}</head><body><div id="root"></div><script type="module" src="/assets/index.js"></script></body></html>\n`);
  writeFileSync(path.join(dir, "assets", "index.js"), "export {};\n");
  return dir;
}

async function build(stage: string): Promise<Synthesized> {
  process.env.NODE_ENV = "test";
  await initProject({ stage });
  const app = new App({ mode: "deploy", stage, name: "checkout", region: regionForStage(stage) }, { context: { [PREBUILT_WEB_CONTEXT]: prebuiltWebStub() } });
  addStacks(app);
  await app.finish();
  const stacks = stacksOf(app);
  // One synthesis for every stack's messages: Annotations.fromStack re-synthesizes the app per stack, which re-runs
  // SST's unique-id aspect and makes it reject its own constructs (StaticSite, Service) as duplicates.
  const assembly = app.synth();
  const findings: NagFinding[] = [];
  for (const stack of stacks) {
    for (const message of assembly.getStackArtifact(stack.artifactId).messages) {
      if (message.level !== "error" && message.level !== "warning") continue;
      findings.push({ stack: stack.stackName, path: message.id, level: message.level, message: String(message.entry.data) });
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
