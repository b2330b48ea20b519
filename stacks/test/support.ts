// What the stacks tests share: offline synthesis of the whole app (no AWS credentials, no network, no Docker:
// NODE_ENV=test) and lookups in the synthesized templates. SST's initProject sets its state per process; the test files
// of one worker share a process (isolate: false) and so this module's cache: the app is synthesized once per stage per
// worker. Each process writes the site's stand-in and SST's zips of it to its own folder, so workers synthesize at once.
import { initProject, useProject } from "sst/project.js";
import { App, use } from "sst/constructs";
import { CfnElement, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { addStacks } from "../index.ts";
import { Api, type ApiOutputs } from "../Api.ts";
import type { LocalApiOutputs } from "../api-local.ts";
import { Database } from "../Database.ts";
import { Network } from "../Network.ts";
import { stacksOf } from "../compliance.ts";
import { regionForStage } from "../stages.ts";
import { PAYMENT_META_TAG, PREBUILT_WEB_CONTEXT } from "../Web.ts";

/** A JSON object from a template: properties, container definitions, statements. */
export type Json = Record<string, any>;

/** A resource of a synthesized CloudFormation template. */
export interface Resource {
  Type: string;
  Properties: Json;
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Json;
}

/** A template's resources by logical id. */
export type Resources = Record<string, Resource>;

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
  /** The resources of that template by logical id. */
  resources(name: string): Resources;
  /** cdk-nag findings (and CDK's own warnings) left after suppressions, from the same single synthesis as the templates. */
  findings: NagFinding[];
  /**
   * What the stacks returned, taken right after this app was built: SST's use() answers for the app built last in the
   * process, and test files share processes (and this cache) with files that build other stages and modes.
   */
  outputs: { api: ApiOutputs | LocalApiOutputs; network: ReturnType<typeof Network>; database: ReturnType<typeof Database> };
}

const cache = new Map<string, Promise<Synthesized>>();

let ownDir: string | undefined;

/** A temporary folder of this test file's process, removed when it exits. */
function processDir(): string {
  if (!ownDir) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "checkout-stacks-test-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    ownDir = dir;
  }
  return ownDir;
}

/**
 * A stand-in for packages/web/dist (StaticSite packages a build output at synthesis): a page with the payment meta
 * tag the deploy rewrites and one asset, so synthesis neither runs Vite nor depends on a build lying around.
 */
export function prebuiltWebStub(): string {
  const dir = path.join(processDir(), "web-dist");
  mkdirSync(path.join(dir, "assets"), { recursive: true });
  writeFileSync(
    path.join(dir, "index.html"),
    `<!doctype html><html><head>${PAYMENT_META_TAG}</head><body><div id="root"></div><script type="module" src="/assets/index.js"></script></body></html>\n`,
  );
  writeFileSync(path.join(dir, "assets", "index.js"), "export {};\n");
  return dir;
}

/** Builds the whole app for a stage in one of SST's modes (deploy, dev, remove) and synthesizes it, as `sst` would. */
export async function buildApp(mode: "deploy" | "dev" | "remove", stage = "test") {
  process.env.NODE_ENV = "test";
  await initProject({ stage });
  // SST empties and refills .sst/types and .sst/artifacts/StaticSite-… at synthesis: another file doing the same at once
  // would race it, so they go to this process's own folder.
  Object.assign(useProject().paths, { out: path.join(processDir(), "sst"), artifacts: path.join(processDir(), "artifacts") });
  const app = new App({ mode, stage, name: "checkout", region: regionForStage(stage) }, { context: { [PREBUILT_WEB_CONTEXT]: prebuiltWebStub() } });
  addStacks(app);
  await app.finish();
  return { app, stacks: stacksOf(app), assembly: app.synth() };
}

async function build(stage: string): Promise<Synthesized> {
  // One synthesis for every stack's messages: Annotations.fromStack re-synthesizes the app per stack, which re-runs
  // SST's unique-id aspect and makes it reject its own constructs (StaticSite, Service) as duplicates.
  const { app, stacks, assembly } = await buildApp("deploy", stage);
  const outputs = { api: use(Api), network: use(Network), database: use(Database) };
  const findings: NagFinding[] = [];
  for (const stack of stacks) {
    for (const message of assembly.getStackArtifact(stack.artifactId).messages) {
      if (message.level !== "error" && message.level !== "warning") continue;
      findings.push({ stack: stack.stackName, path: message.id, level: message.level, message: String(message.entry.data) });
    }
  }
  const templates = new Map(stacks.map((stack) => [stack.node.id, Template.fromStack(stack)]));
  const template = (name: string): Template => {
    const found = [...templates.entries()].find(([id]) => id === name || id.endsWith(`-${name}`));
    if (!found) throw new Error(`no stack named ${name}; stacks: ${[...templates.keys()].join(", ")}`);
    return found[1];
  };
  return {
    app,
    stacks,
    findings,
    outputs,
    template,
    resources: (name) => (template(name).toJSON().Resources ?? {}) as Resources,
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

/** The logical id of a construct's CloudFormation resource (an L1, or an L2's default child), overridden ids included. */
export function logicalId(construct: IConstruct): string {
  const element = construct instanceof CfnElement ? construct : (construct.node.defaultChild as CfnElement);
  return Stack.of(construct).resolve(element.logicalId) as string;
}

/** The resources of one type, as [logical id, properties]. */
export function ofType(resources: Resources, type: string): [string, Json][] {
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties]);
}

/** A container definition's environment as an object. */
export function environmentOf(container: Json): Record<string, unknown> {
  return Object.fromEntries(((container.Environment ?? []) as { Name: string; Value: unknown }[]).map(({ Name, Value }) => [Name, Value]));
}

/** A container definition's secrets, each as the JSON of where its value comes from. */
export function secretsOf(container: Json): Record<string, string> {
  return Object.fromEntries(((container.Secrets ?? []) as { Name: string; ValueFrom: unknown }[]).map(({ Name, ValueFrom }) => [Name, JSON.stringify(ValueFrom)]));
}
