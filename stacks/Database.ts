// Database: RDS PostgreSQL (Multi-AZ, KMS-encrypted, deletion-protected) with a hardened read replica.
import { use, type StackContext } from "sst/constructs";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as rds from "aws-cdk-lib/aws-rds";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
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
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
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
  instance.addRotationSingleUser({ automaticallyAfter: Duration.days(30) });

  const replica = new rds.DatabaseInstanceReadReplica(stack, "PostgresReplica", {
    sourceDatabaseInstance: instance,
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
    vpc,
    vpcSubnets,
    securityGroups: [securityGroups.database],
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
