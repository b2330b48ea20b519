// The API task definition as the synthesized prod template states it (stacks/test/print-task-definition.ts, run in a
// child process: synthesis needs NODE_ENV=test and SST's project state), and what ECS would make of it: the containers
// in dependency order, each one's environment with its Secrets Manager secrets injected, every value the test cannot
// stand in for reported by name instead of guessed.
import { execFile } from "node:child_process";
import { randomInt } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
// What print-task-definition.ts prints (types and its output marker), from a file with no CDK import.
import { OUTPUT_MARKER, type ContainerSpec, type ResourceReference, type Resolved, type SecretSource, type TaskSpec } from "../../../../stacks/test/task-spec.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
export const PRINT_SCRIPT = "stacks/test/print-task-definition.ts";

export type { ContainerSpec, ResourceReference, Resolved, SecretSource, TaskSpec };

/** Synthesizes the stage now (nothing cached between runs, so drift always shows) and returns its API task definition. */
export async function readProductionTask(options: { stage: string }): Promise<TaskSpec> {
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", PRINT_SCRIPT, options.stage],
      { cwd: repoRoot, env: { ...process.env, NODE_ENV: "test" }, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${PRINT_SCRIPT} ${options.stage} failed: ${error.message}\n${stderr.slice(-4000)}`)) : resolve({ stdout })),
    );
  });
  const at = stdout.indexOf(OUTPUT_MARKER);
  if (at === -1) throw new Error(`${PRINT_SCRIPT} printed no task definition:\n${stdout.slice(-2000)}`);
  return JSON.parse(stdout.slice(at + OUTPUT_MARKER.length)) as TaskSpec;
}

/** The containers in the order ECS starts them: each after the containers it depends on. */
export function startOrder(spec: TaskSpec): ContainerSpec[] {
  const byName = new Map(spec.containers.map((container) => [container.name, container]));
  const ordered: ContainerSpec[] = [];
  const visiting = new Set<string>();
  const visit = (container: ContainerSpec) => {
    if (ordered.includes(container)) return;
    if (visiting.has(container.name)) throw new Error(`container dependencies form a cycle through ${container.name}`);
    visiting.add(container.name);
    for (const dependency of container.dependsOn) {
      const other = byName.get(dependency.containerName);
      if (!other) throw new Error(`${container.name} depends on ${dependency.containerName}, which the task definition does not have`);
      visit(other);
    }
    ordered.push(container);
  };
  spec.containers.forEach(visit);
  return ordered;
}

/** A value as text for messages: references shown as `<type logicalId.attribute>`. */
export function describeValue(value: Resolved): string {
  if (typeof value === "string") return JSON.stringify(value);
  if ("ref" in value) return `<${value.ref.type} ${value.ref.logicalId}${value.ref.attribute ? `.${value.ref.attribute}` : ""}>`;
  if ("join" in value) return value.join.map(describeValue).join(" + ");
  return `<unresolved ${JSON.stringify(value.unresolved)}>`;
}

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = LOWER.toUpperCase();
const DIGITS = "0123456789";
const PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/** A value as Secrets Manager's GenerateSecretString makes it: the template with the generated key added, or the password alone. */
export function generateSecretString(generate: NonNullable<SecretSource["generate"]>): string {
  let alphabet = [
    generate.excludeLowercase ? "" : LOWER,
    generate.excludeUppercase ? "" : UPPER,
    generate.excludeNumbers ? "" : DIGITS,
    generate.excludePunctuation ? "" : PUNCTUATION,
    generate.includeSpace ? " " : "",
  ].join("");
  alphabet = [...alphabet].filter((char) => !(generate.excludeCharacters ?? "").includes(char)).join("");
  const password = Array.from({ length: generate.passwordLength ?? 32 }, () => alphabet[randomInt(alphabet.length)]).join("");
  if (generate.secretStringTemplate === undefined) return password;
  const template = JSON.parse(generate.secretStringTemplate) as Record<string, unknown>;
  if (generate.generateStringKey) template[generate.generateStringKey] = password;
  return JSON.stringify(template);
}

const DYNAMIC_REFERENCE = /\{\{resolve:secretsmanager:<<secret:([^>]+)>>:SecretString:([^:}]*)(?::[^:}]*){0,2}\}\}/g;

/**
 * Secrets Manager as it would stand after a deploy, by secret id: each secret the stack generates filled in as
 * GenerateSecretString does, each one it composes rendered from those (CloudFormation resolves the dynamic references),
 * and each operator-created one from `operatorSecret` (undefined: the operator's runbook does not create it).
 */
export function fillSecretStore(options: { secrets: SecretSource[]; operatorSecret: (name: string) => string | undefined }): Map<string, string> {
  const store = new Map<string, string>();
  for (const source of options.secrets) {
    const value = source.generate ? generateSecretString(source.generate) : source.external && source.name ? options.operatorSecret(source.name) : undefined;
    if (value !== undefined) store.set(source.id, value);
  }
  let pending = options.secrets.filter((source) => source.composed !== undefined && !store.has(source.id));
  for (let pass = 0; pass < options.secrets.length && pending.length > 0; pass++) {
    for (const source of pending) {
      let isComplete = true;
      const value = source.composed!.replace(DYNAMIC_REFERENCE, (_match, id: string, key: string) => {
        const referenced = store.get(id);
        if (referenced === undefined) {
          isComplete = false;
          return "";
        }
        return key === "" ? referenced : String((JSON.parse(referenced) as Record<string, unknown>)[key] ?? "");
      });
      if (isComplete && !value.includes("<<secret:")) store.set(source.id, value);
    }
    pending = pending.filter((source) => !store.has(source.id));
  }
  return store;
}

export class UnprovidedSettingError extends Error {
  override readonly name = "UnprovidedSettingError";
}

/**
 * What ECS injects for the container's `Secrets`: each name → the secret's value (or its JSON key's). `store` holds
 * SecretString values by secret id (the Secrets Manager name, or `<stack>/<logicalId>` for a generated secret). Every
 * secret or key the store cannot provide is reported at once: ECS would fail the task's start on the first.
 */
export function injectSecrets(container: ContainerSpec, store: ReadonlyMap<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const secret of container.secrets) {
    const value = store.get(secret.secretId);
    if (value === undefined) {
      problems.push(`${secret.name}: no value for secret ${secret.secretId}${secret.jsonKey ? ` (key ${secret.jsonKey})` : ""}`);
      continue;
    }
    if (!secret.jsonKey) {
      env[secret.name] = value;
      continue;
    }
    let field: unknown;
    try {
      field = (JSON.parse(value) as Record<string, unknown>)[secret.jsonKey];
    } catch {
      field = undefined;
    }
    if (typeof field !== "string") problems.push(`${secret.name}: secret ${secret.secretId} has no string key ${secret.jsonKey}`);
    else env[secret.name] = field;
  }
  if (problems.length > 0) throw new UnprovidedSettingError(`container ${container.name}: ECS could not inject its secrets here:\n  ${problems.join("\n  ")}`);
  return env;
}

/**
 * The container's plain environment: literal values verbatim; each reference (a database endpoint, a bucket name) goes
 * through `standIn`, which returns the local stand-in's value or undefined when the test has none, which is an error.
 */
export function plainEnvironment(container: ContainerSpec, standIn: (name: string, value: Exclude<Resolved, string>) => string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const { name, value } of container.environment) {
    if (typeof value === "string") {
      env[name] = value;
      continue;
    }
    const local = standIn(name, value);
    if (local === undefined) problems.push(`${name} = ${describeValue(value)}: no local stand-in`);
    else env[name] = local;
  }
  if (container.environmentFiles.length > 0) problems.push(`environmentFiles ${JSON.stringify(container.environmentFiles)}: not reproduced`);
  if (problems.length > 0) throw new UnprovidedSettingError(`container ${container.name}: settings the test cannot provide:\n  ${problems.join("\n  ")}`);
  return env;
}
