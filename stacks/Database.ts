// Database: RDS PostgreSQL (Multi-AZ, KMS-encrypted, deletion-protected) with a hardened read replica, the owner's
// (master) secret and the service role's secret: the API runs as the service role, migrations as the owner.
import { use, type StackContext } from "sst/constructs";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import * as rds from "aws-cdk-lib/aws-rds";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { SERVICE_DATABASE_USER } from "./api-task-contract.ts";
import { suppress } from "./compliance.ts";
import { stageConfig } from "./config.ts";
import { DATABASE_PORT, Network } from "./Network.ts";
import { creationScopedName } from "./physical-names.ts";

export const DATABASE_NAME = "checkout";
/** The log types RDS exports to CloudWatch Logs, for the writer and the replica alike. */
export const DATABASE_LOG_EXPORTS = ["postgresql", "upgrade"];

/** The production writer's (and replica's) m7g size: 8 vCPU, 32 GiB (db.m7g.2xlarge); see the capacity plan. */
export const PRODUCTION_DATABASE_SIZE = ec2.InstanceSize.XLARGE2;
/** vCPUs of the m7g sizes this stack may choose, for the capacity plan's check. */
export const M7G_VCPUS: Partial<Record<ec2.InstanceSize, number>> = {
  [ec2.InstanceSize.LARGE]: 2,
  [ec2.InstanceSize.XLARGE]: 4,
  [ec2.InstanceSize.XLARGE2]: 8,
  [ec2.InstanceSize.XLARGE4]: 16,
};

export function Database({ stack, app }: StackContext): {
  instance: rds.DatabaseInstance;
  replica: rds.DatabaseInstanceReadReplica;
  /** The owner (RDS master user): only the migrate container gets it. */
  secret: secretsmanager.ISecret;
  /** The service role (SERVICE_DATABASE_USER) the API connects as; migrate creates it and sets its grants. */
  serviceRoleSecret: secretsmanager.Secret;
  writerEndpoint: string;
  readerEndpoint: string;
  port: number;
  databaseName: string;
} {
  const config = stageConfig(app.stage);
  const { vpc, key, securityGroups } = use(Network);
  const vpcSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  // The same major version as the embedded PostgreSQL of local development; RDS applies minor versions itself.
  const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 });
  // Production stages get general-purpose Graviton instances sized by the capacity plan (stacks/capacity-plan.ts: the
  // journey at 10,000 req/s with headroom needs about 4.7 vCPU of PostgreSQL, so 8); dev and personal stages a burstable size.
  const instanceType = config.isProduction
    ? ec2.InstanceType.of(ec2.InstanceClass.M7G, PRODUCTION_DATABASE_SIZE)
    : ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM);
  const retainInProduction = config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

  const parameterGroup = new rds.ParameterGroup(stack, "Parameters", {
    engine,
    description: "checkout: TLS required for every connection; connections logged",
    parameters: { "rds.force_ssl": "1", log_connections: "1", log_disconnections: "1" },
  });

  // RDS would create its export log groups itself, unencrypted and kept forever. Naming the instances lets the stack
  // create those groups first, encrypted with the platform key and with a retention period. A rolled-back creation
  // drops them (RETAIN_ON_UPDATE_OR_DELETE keeps them only once the stack exists).
  const exportLogGroups = (id: string, instanceIdentifier: string) =>
    DATABASE_LOG_EXPORTS.map(
      (type) =>
        new logs.LogGroup(stack, `${id}${type[0]!.toUpperCase()}${type.slice(1)}Logs`, {
          logGroupName: `/aws/rds/instance/${instanceIdentifier}/${type}`,
          encryptionKey: key,
          retention: config.isProduction ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
          removalPolicy: config.isProduction ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY,
        }),
    );
  // Deletion protection stops a rolled-back creation from deleting the instances, so a fixed identifier would make
  // the retry collide with the one left behind: the identifiers carry the stack creation's own suffix instead.
  const identifier = (base: string) => {
    // RDS allows 63 characters; the suffix takes 9 ("-" and 8 hex digits). Refuse at synthesis, not mid-deploy.
    const name = app.logicalPrefixedName(base).toLowerCase();
    if (name.length + 9 > 63) throw new Error(`stage "${app.stage}" is too long for the database identifier ${name}-<8 hex digits> (63 characters at most)`);
    return creationScopedName(stack, name);
  };
  const writerIdentifier = identifier("postgres");
  const replicaIdentifier = identifier("postgres-replica");

  const instance = new rds.DatabaseInstance(stack, "Postgres", {
    engine,
    instanceIdentifier: writerIdentifier,
    databaseName: DATABASE_NAME,
    port: DATABASE_PORT,
    instanceType,
    vpc,
    vpcSubnets,
    securityGroups: [securityGroups.database],
    multiAz: true,
    publiclyAccessible: false,
    storageType: rds.StorageType.GP3,
    storageEncrypted: true,
    storageEncryptionKey: key,
    allocatedStorage: 50,
    maxAllocatedStorage: 500,
    credentials: rds.Credentials.fromGeneratedSecret("checkout", { encryptionKey: key }),
    deletionProtection: true,
    removalPolicy: RemovalPolicy.SNAPSHOT,
    backupRetention: Duration.days(config.isProduction ? 14 : 7),
    preferredBackupWindow: "03:00-03:30",
    preferredMaintenanceWindow: "sun:04:00-sun:04:30",
    cloudwatchLogsExports: DATABASE_LOG_EXPORTS,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: key,
    autoMinorVersionUpgrade: true,
    parameterGroup,
  });
  for (const group of exportLogGroups("Postgres", writerIdentifier)) instance.node.defaultChild!.node.addDependency(group);

  // The secret attached to the instance (what the Api stack injects); the generated secret itself is its child.
  const secret = instance.secret!;
  (instance.node.findChild("Secret") as rds.DatabaseSecret).applyRemovalPolicy(retainInProduction);
  // Secrets Manager's hosted rotation function runs in the private subnets inside the service security group: that
  // is the only group the database admits, and its egress on 443 reaches the Secrets Manager API through the NAT.
  secret.addRotationSchedule("Rotation", {
    automaticallyAfter: Duration.days(30),
    hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroups.service],
    }),
  });

  // The service role's credentials: generated here, set on the role by the migrate container at every deployment
  // (so a new password takes effect with the next deployment), injected into the API container as DATABASE_USER/PASSWORD.
  const serviceRoleSecret = new secretsmanager.Secret(stack, "ServiceRoleSecret", {
    description: `checkout ${app.stage}: the PostgreSQL role the API connects as (${SERVICE_DATABASE_USER}); the migrate container creates it and grants it only what the service needs`,
    encryptionKey: key,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username: SERVICE_DATABASE_USER }),
      generateStringKey: "password",
      passwordLength: 40,
      // Letters and digits: nothing to escape in SQL, in a URL or in a shell.
      excludePunctuation: true,
      includeSpace: false,
    },
    removalPolicy: retainInProduction,
  });
  suppress(serviceRoleSecret, [
    {
      rule: "AwsSolutions-SMG4",
      reason:
        "The migrate container sets the service role's password from this secret at every deployment, so it is rotated with put-secret-value followed by a deployment (docs/DEPLOY.md); Secrets Manager's hosted multi-user rotation would alternate the role's name, which the grants are made to.",
    },
  ]);

  const replica = new rds.DatabaseInstanceReadReplica(stack, "PostgresReplica", {
    sourceDatabaseInstance: instance,
    instanceIdentifier: replicaIdentifier,
    instanceType,
    vpc,
    vpcSubnets,
    securityGroups: [securityGroups.database],
    // Catalogue reads depend on the replica, so it fails over within its own pair like the writer does.
    multiAz: true,
    publiclyAccessible: false,
    storageType: rds.StorageType.GP3,
    // A same-region replica of an encrypted instance is always encrypted with the source's key (the platform key);
    // RDS rejects a KmsKeyId on it ("Your request does not require the KMS key parameter").
    storageEncrypted: true,
    deletionProtection: true,
    // A replica holds only a copy of the writer's data, and RDS takes no final snapshot of a read replica.
    removalPolicy: RemovalPolicy.DESTROY,
    preferredMaintenanceWindow: "sun:04:30-sun:05:00",
    cloudwatchLogsExports: DATABASE_LOG_EXPORTS,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: key,
    autoMinorVersionUpgrade: true,
    parameterGroup,
  });
  for (const group of exportLogGroups("PostgresReplica", replicaIdentifier)) replica.node.defaultChild!.node.addDependency(group);

  for (const database of [instance, replica]) {
    suppress(database, [
      {
        rule: "AwsSolutions-RDS11",
        reason:
          "PostgreSQL keeps its standard port 5432 because the database security group admits only the API tasks' security group, so another port would hide nothing from anyone able to reach it.",
      },
    ]);
  }

  return {
    instance,
    replica,
    secret,
    serviceRoleSecret,
    writerEndpoint: instance.dbInstanceEndpointAddress,
    readerEndpoint: replica.dbInstanceEndpointAddress,
    port: DATABASE_PORT,
    databaseName: DATABASE_NAME,
  };
}
