// Database: RDS PostgreSQL (Multi-AZ, KMS-encrypted, deletion-protected) with a hardened read replica.
import { use, type StackContext } from "sst/constructs";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as rds from "aws-cdk-lib/aws-rds";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { suppress } from "./compliance.ts";
import { stageConfig } from "./config.ts";
import { DATABASE_PORT, Network } from "./Network.ts";

export const DATABASE_NAME = "checkout";

export function Database({ stack, app }: StackContext): {
  instance: rds.DatabaseInstance;
  replica: rds.DatabaseInstanceReadReplica;
  secret: secretsmanager.ISecret;
  writerEndpoint: string;
  readerEndpoint: string;
  port: number;
  databaseName: string;
} {
  const config = stageConfig(app.stage);
  const { vpc, key, securityGroups } = use(Network);
  const vpcSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  // Production stages get general-purpose Graviton instances; dev and personal stages a burstable size of the same family.
  const instanceType = config.isProduction
    ? ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE)
    : ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM);
  const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16_4 });

  const parameterGroup = new rds.ParameterGroup(stack, "Parameters", {
    engine,
    description: "checkout: TLS required for every connection",
    parameters: { "rds.force_ssl": "1" },
  });

  const instance = new rds.DatabaseInstance(stack, "Postgres", {
    engine,
    databaseName: DATABASE_NAME,
    port: DATABASE_PORT,
    instanceType,
    vpc,
    vpcSubnets,
    securityGroups: [securityGroups.database],
    multiAz: true,
    publiclyAccessible: false,
    storageEncrypted: true,
    storageEncryptionKey: key,
    allocatedStorage: 50,
    maxAllocatedStorage: 500,
    credentials: rds.Credentials.fromGeneratedSecret("checkout", { encryptionKey: key }),
    deletionProtection: true,
    removalPolicy: RemovalPolicy.SNAPSHOT,
    backupRetention: Duration.days(config.isProduction ? 14 : 7),
    cloudwatchLogsExports: ["postgresql", "upgrade"],
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: key,
    autoMinorVersionUpgrade: true,
    parameterGroup,
  });
  const secret = instance.secret!;
  // Secrets Manager's hosted rotation function runs in the private subnets inside the service security group, the only
  // group the database admits, which also gives it its way out to the Secrets Manager API on 443.
  secret.addRotationSchedule("Rotation", {
    automaticallyAfter: Duration.days(30),
    hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroups.service],
    }),
  });

  const replica = new rds.DatabaseInstanceReadReplica(stack, "PostgresReplica", {
    sourceDatabaseInstance: instance,
    instanceType,
    vpc,
    vpcSubnets,
    securityGroups: [securityGroups.database],
    // Catalogue reads depend on the replica, so it fails over within its own pair like the writer does.
    multiAz: true,
    publiclyAccessible: false,
    storageEncrypted: true,
    storageEncryptionKey: key,
    deletionProtection: true,
    removalPolicy: RemovalPolicy.SNAPSHOT,
    cloudwatchLogsExports: ["postgresql", "upgrade"],
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: key,
    autoMinorVersionUpgrade: true,
    parameterGroup,
  });

  for (const database of [instance, replica]) {
    suppress(database, [
      {
        rule: "AwsSolutions-RDS11",
        reason:
          "PostgreSQL keeps its standard port 5432 because the database security group admits only the API tasks' security group, so a different port would hide nothing from anyone who can reach it.",
      },
    ]);
  }

  return {
    instance,
    replica,
    secret,
    writerEndpoint: instance.dbInstanceEndpointAddress,
    readerEndpoint: replica.dbInstanceEndpointAddress,
    port: DATABASE_PORT,
    databaseName: DATABASE_NAME,
  };
}
