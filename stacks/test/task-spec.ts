// The shape print-task-definition.ts prints a stage's API task definition in, and the marker before its JSON. No CDK
// import: the production-parity test (packages/api) reads the same types and marker from here.

/** A value CloudFormation fills in at deploy time: an attribute of a resource in one of the app's stacks. */
export interface ResourceReference {
  stack: string;
  logicalId: string;
  type: string;
  /** Fn::GetAtt's attribute; absent for a Ref. */
  attribute?: string;
}

/** A template value after following Ref, Fn::GetAtt, Fn::ImportValue and Fn::Join as far as synthesis knows them. */
export type Resolved = string | { ref: ResourceReference } | { join: Resolved[] } | { unresolved: unknown };

export interface SecretSource {
  /** The Secrets Manager name when the template fixes it (or the ARN names it); otherwise `<stack>/<logicalId>`. */
  id: string;
  name?: string;
  description?: string;
  /** How Secrets Manager fills a secret the stack generates (GenerateSecretString). */
  generate?: {
    secretStringTemplate?: string;
    generateStringKey?: string;
    passwordLength?: number;
    excludeCharacters?: string;
    excludePunctuation?: boolean;
    excludeUppercase?: boolean;
    excludeLowercase?: boolean;
    excludeNumbers?: boolean;
    includeSpace?: boolean;
  };
  /** Attached to a database instance (its master credentials): RDS creates that user from the secret. */
  attachedTo?: string;
  /** Present when the secret is not created by the app's stacks: the operator creates it before a deploy. */
  external?: true;
  /**
   * A SecretString the stack composes (e.g. from another secret through a dynamic reference): the text with each
   * referenced secret written `<<secret:ID>>`, as in `{{resolve:secretsmanager:<<secret:ID>>:SecretString:key::}}`.
   */
  composed?: string;
  /** A SecretString the template holds but this script could not render (the test cannot provide it). */
  unrendered?: Resolved;
}

export interface ContainerSpec {
  name: string;
  essential: boolean;
  image: Resolved;
  command?: string[];
  entryPoint?: string[];
  workingDirectory?: string;
  user?: string;
  readonlyRootFilesystem: boolean;
  environment: { name: string; value: Resolved }[];
  environmentFiles: unknown[];
  secrets: { name: string; secretId: string; jsonKey?: string; valueFrom: Resolved }[];
  portMappings: { containerPort: number; protocol: string }[];
  healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; startPeriod?: number };
  stopTimeout?: number;
  dependsOn: { containerName: string; condition: string }[];
  mountPoints: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
  /** Every other container-definition property, verbatim, so the test can refuse ones it does not reproduce. */
  other: Record<string, unknown>;
}

export interface TaskSpec {
  stage: string;
  region: string;
  family: Resolved;
  cpu: string;
  memory: string;
  volumes: { name: string; host?: unknown; other: Record<string, unknown> }[];
  containers: ContainerSpec[];
  targetGroups: {
    logicalId: string;
    port: number;
    protocol: string;
    healthCheck: {
      path: string;
      port?: string;
      protocol?: string;
      intervalSeconds?: number;
      timeoutSeconds?: number;
      healthyThreshold?: number;
      unhealthyThreshold?: number;
      matcher?: unknown;
    };
  }[];
  secrets: Record<string, SecretSource>;
}

export const OUTPUT_MARKER = "--- task definition ---";
