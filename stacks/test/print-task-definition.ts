// Prints the API task definition of a stage's synthesized template as JSON (for the production-parity test, which
// runs the bundle exactly as it says): containers, secrets traced back to their Secrets Manager secret, target groups.
// Run with NODE_ENV=test: `NODE_ENV=test npx tsx stacks/test/print-task-definition.ts [stage]`. Nothing is cached.
import { synthesize, type Json } from "./support.ts";

import { OUTPUT_MARKER, type ContainerSpec, type ResourceReference, type Resolved, type SecretSource, type TaskSpec } from "./task-spec.ts";

interface StackTemplate {
  stack: string;
  template: Json;
}

const PSEUDO = (stage: string, region: string, stack: string): Record<string, string> => ({
  "AWS::Partition": "aws",
  "AWS::Region": region,
  "AWS::URLSuffix": "amazonaws.com",
  "AWS::AccountId": "my-account",
  "AWS::StackName": stack,
  "AWS::NoValue": "",
  "AWS::StackId": `${stage}-${stack}`,
});

function createResolver(templates: StackTemplate[], stage: string, region: string) {
  const exports = new Map<string, { stack: string; value: unknown }>();
  for (const { stack, template } of templates) {
    for (const output of Object.values<Json>(template.Outputs ?? {})) {
      const name = output.Export?.Name;
      if (typeof name === "string") exports.set(name, { stack, value: output.Value });
    }
  }
  const resourceOf = (stack: string, logicalId: string): Json | undefined => templates.find((t) => t.stack === stack)?.template.Resources?.[logicalId];

  function resolve(stack: string, value: unknown): Resolved {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
    if (!value || typeof value !== "object" || Array.isArray(value)) return { unresolved: value };
    const json = value as Json;
    if ("Ref" in json) {
      const pseudo = PSEUDO(stage, region, stack)[json.Ref];
      if (pseudo !== undefined) return pseudo;
      const resource = resourceOf(stack, json.Ref);
      if (!resource) return { unresolved: json };
      // A secret attachment's Ref is the secret's ARN.
      if (resource.Type === "AWS::SecretsManager::SecretTargetAttachment") return resolve(stack, resource.Properties.SecretId);
      return { ref: { stack, logicalId: json.Ref, type: resource.Type } };
    }
    if ("Fn::GetAtt" in json) {
      const [logicalId, attribute] = json["Fn::GetAtt"] as [string, string];
      const resource = resourceOf(stack, logicalId);
      return resource ? { ref: { stack, logicalId, type: resource.Type, attribute } } : { unresolved: json };
    }
    if ("Fn::ImportValue" in json) {
      const found = typeof json["Fn::ImportValue"] === "string" ? exports.get(json["Fn::ImportValue"]) : undefined;
      return found ? resolve(found.stack, found.value) : { unresolved: json };
    }
    if ("Fn::Join" in json) {
      const [separator, parts] = json["Fn::Join"] as [string, unknown[]];
      const resolved: Resolved[] = [];
      parts.forEach((part, index) => {
        if (index > 0 && separator !== "") resolved.push(separator);
        resolved.push(resolve(stack, part));
      });
      // Adjacent strings merged, so a fully known value becomes one string.
      const merged: Resolved[] = [];
      for (const part of resolved.flatMap((p) => (typeof p === "object" && "join" in p ? p.join : [p]))) {
        const last = merged.at(-1);
        if (typeof part === "string" && typeof last === "string") merged[merged.length - 1] = last + part;
        else merged.push(part);
      }
      return merged.length === 1 && typeof merged[0] === "string" ? merged[0] : { join: merged };
    }
    return { unresolved: json };
  }

  /** The secret a container secret's ValueFrom names, and its JSON key (`<arn>:<key>:<stage>:<version>`). */
  function secretOf(stack: string, valueFrom: unknown, secrets: Record<string, SecretSource>): { secretId: string; jsonKey?: string; valueFrom: Resolved } {
    const resolved = resolve(stack, valueFrom);
    const keyFromSuffix = (suffix: string) => suffix.replace(/^:/, "").split(":")[0] || undefined;
    if (typeof resolved === "string") {
      const match = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:([^:]+)(:.*)?$/.exec(resolved);
      if (!match) return { secretId: `unknown:${resolved}`, valueFrom: resolved };
      const name = match[1]!;
      secrets[name] ??= { id: name, name, external: true };
      return { secretId: name, jsonKey: keyFromSuffix(match[2] ?? ""), valueFrom: resolved };
    }
    const parts = "join" in resolved ? resolved.join : [resolved];
    const head = parts[0];
    const tail = parts.slice(1);
    if (head && typeof head === "object" && "ref" in head && head.ref.type === "AWS::SecretsManager::Secret" && !head.ref.attribute && tail.every((p) => typeof p === "string")) {
      const source = describeSecret(head.ref);
      secrets[source.id] = source;
      return { secretId: source.id, jsonKey: keyFromSuffix(tail.join("")), valueFrom: resolved };
    }
    return { secretId: `unknown:${JSON.stringify(resolved)}`, valueFrom: resolved };
  }

  /** A secret's id: its Secrets Manager name when the template fixes it, else `<stack>/<logicalId>`. */
  function secretIdOf(ref: ResourceReference): string {
    const name = resourceOf(ref.stack, ref.logicalId)?.Properties?.Name;
    const resolved = name === undefined ? undefined : resolve(ref.stack, name);
    return typeof resolved === "string" ? resolved : `${ref.stack}/${ref.logicalId}`;
  }

  /** A resolved value as text, secrets written `<<secret:ID>>`; undefined when another reference remains. */
  function render(value: Resolved): string | undefined {
    if (typeof value === "string") return value;
    if ("ref" in value && value.ref.type === "AWS::SecretsManager::Secret" && !value.ref.attribute) return `<<secret:${secretIdOf(value.ref)}>>`;
    if ("join" in value) {
      const parts = value.join.map(render);
      return parts.every((part) => part !== undefined) ? parts.join("") : undefined;
    }
    return undefined;
  }

  function describeSecret(ref: ResourceReference): SecretSource {
    const resource = resourceOf(ref.stack, ref.logicalId)!;
    const properties: Json = resource.Properties ?? {};
    const name = properties.Name === undefined ? undefined : resolve(ref.stack, properties.Name);
    const description = properties.Description === undefined ? undefined : resolve(ref.stack, properties.Description);
    const generate = properties.GenerateSecretString as Json | undefined;
    const attachment = templates.find((t) => t.stack === ref.stack)!.template.Resources as Record<string, Json>;
    const attachedTo = Object.values(attachment).find((r) => r.Type === "AWS::SecretsManager::SecretTargetAttachment" && r.Properties?.SecretId?.Ref === ref.logicalId)?.Properties
      ?.TargetType as string | undefined;
    const secretString = properties.SecretString === undefined ? undefined : resolve(ref.stack, properties.SecretString);
    const rendered = secretString === undefined ? undefined : render(secretString);
    return {
      id: secretIdOf(ref),
      ...(rendered !== undefined ? { composed: rendered } : secretString !== undefined ? { unrendered: secretString } : {}),
      ...(typeof name === "string" ? { name } : {}),
      ...(typeof description === "string" ? { description } : {}),
      ...(generate
        ? {
            generate: {
              secretStringTemplate: generate.SecretStringTemplate,
              generateStringKey: generate.GenerateStringKey,
              passwordLength: generate.PasswordLength,
              excludeCharacters: generate.ExcludeCharacters,
              excludePunctuation: generate.ExcludePunctuation,
              excludeUppercase: generate.ExcludeUppercase,
              excludeLowercase: generate.ExcludeLowercase,
              excludeNumbers: generate.ExcludeNumbers,
              includeSpace: generate.IncludeSpace,
            },
          }
        : {}),
      ...(attachedTo ? { attachedTo } : {}),
    };
  }

  return { resolve, secretOf, resourceOf, describeSecret };
}

const KNOWN_CONTAINER_KEYS = new Set([
  "Name",
  "Essential",
  "Image",
  "Command",
  "EntryPoint",
  "WorkingDirectory",
  "User",
  "ReadonlyRootFilesystem",
  "Environment",
  "EnvironmentFiles",
  "Secrets",
  "PortMappings",
  "HealthCheck",
  "StopTimeout",
  "DependsOn",
  "MountPoints",
]);

export async function readTaskSpec(stage: string): Promise<TaskSpec> {
  const synthesized = await synthesize(stage);
  const region = synthesized.app.region;
  const templates: StackTemplate[] = synthesized.stacks.map((stack) => ({ stack: stack.node.id, template: synthesized.template(stack.node.id).toJSON() as Json }));
  const api = templates.find((t) => t.stack === "Api" || t.stack.endsWith("-Api"));
  if (!api) throw new Error(`no Api stack among ${templates.map((t) => t.stack).join(", ")}`);
  const { resolve, secretOf, describeSecret } = createResolver(templates, stage, region);
  const resources = Object.entries<Json>(api.template.Resources ?? {});
  const taskDefinitions = resources.filter(([, r]) => r.Type === "AWS::ECS::TaskDefinition");
  if (taskDefinitions.length !== 1) throw new Error(`expected one AWS::ECS::TaskDefinition in ${api.stack}, found ${taskDefinitions.length}`);
  const task: Json = taskDefinitions[0]![1].Properties;
  // Every secret the app's stacks create (a container's secret may be composed from one no container names).
  const secrets: Record<string, SecretSource> = {};
  for (const { stack, template } of templates) {
    for (const [logicalId, resource] of Object.entries<Json>(template.Resources ?? {})) {
      if (resource.Type !== "AWS::SecretsManager::Secret") continue;
      const source = describeSecret({ stack, logicalId, type: resource.Type });
      secrets[source.id] = source;
    }
  }

  const containers = (task.ContainerDefinitions as Json[]).map((definition): ContainerSpec => {
    const other = Object.fromEntries(Object.entries(definition).filter(([key]) => !KNOWN_CONTAINER_KEYS.has(key)));
    const health = definition.HealthCheck as Json | undefined;
    return {
      name: definition.Name,
      essential: definition.Essential ?? true,
      image: resolve(api.stack, definition.Image),
      command: definition.Command,
      entryPoint: definition.EntryPoint,
      workingDirectory: definition.WorkingDirectory,
      user: definition.User,
      readonlyRootFilesystem: definition.ReadonlyRootFilesystem === true,
      environment: ((definition.Environment ?? []) as Json[]).map((entry) => ({ name: entry.Name, value: resolve(api.stack, entry.Value) })),
      environmentFiles: definition.EnvironmentFiles ?? [],
      secrets: ((definition.Secrets ?? []) as Json[]).map((entry) => ({ name: entry.Name, ...secretOf(api.stack, entry.ValueFrom, secrets) })),
      portMappings: ((definition.PortMappings ?? []) as Json[]).map((entry) => ({ containerPort: entry.ContainerPort, protocol: entry.Protocol ?? "tcp" })),
      ...(health ? { healthCheck: { command: health.Command, interval: health.Interval, timeout: health.Timeout, retries: health.Retries, startPeriod: health.StartPeriod } } : {}),
      stopTimeout: definition.StopTimeout,
      dependsOn: ((definition.DependsOn ?? []) as Json[]).map((entry) => ({ containerName: entry.ContainerName, condition: entry.Condition })),
      mountPoints: ((definition.MountPoints ?? []) as Json[]).map((entry) => ({
        sourceVolume: entry.SourceVolume,
        containerPath: entry.ContainerPath,
        readOnly: entry.ReadOnly === true,
      })),
      other,
    };
  });

  const targetGroups = resources
    .filter(([, r]) => r.Type === "AWS::ElasticLoadBalancingV2::TargetGroup")
    .map(([logicalId, r]) => {
      const p: Json = r.Properties;
      return {
        logicalId,
        port: p.Port,
        protocol: p.Protocol,
        healthCheck: {
          path: p.HealthCheckPath ?? "/",
          port: p.HealthCheckPort,
          protocol: p.HealthCheckProtocol,
          intervalSeconds: p.HealthCheckIntervalSeconds,
          timeoutSeconds: p.HealthCheckTimeoutSeconds,
          healthyThreshold: p.HealthyThresholdCount,
          unhealthyThreshold: p.UnhealthyThresholdCount,
          matcher: p.Matcher,
        },
      };
    });

  return {
    stage,
    region,
    family: resolve(api.stack, task.Family),
    cpu: String(task.Cpu),
    memory: String(task.Memory),
    volumes: ((task.Volumes ?? []) as Json[]).map(({ Name, Host, ...rest }) => ({ name: Name, host: Host, other: rest })),
    containers,
    targetGroups,
    secrets,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stage = process.argv[2] ?? "prod";
  const spec = await readTaskSpec(stage);
  // After a marker: SST and the AWS SDK may print to stdout while synthesizing.
  process.stdout.write(`${OUTPUT_MARKER}\n${JSON.stringify(spec)}\n`);
}
