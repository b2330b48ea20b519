// Database stack, resource by resource: the Multi-AZ writer, its secret and rotation, the TLS-only parameter group,
// the read replica with the same hardening, the export log groups; no unsuppressed cdk-nag error.
import { beforeAll, describe, expect, it } from "vitest";
import { Stack } from "aws-cdk-lib";
import { Match, type Template } from "aws-cdk-lib/assertions";
import type { Database } from "../Database.ts";
import { logicalId, synthesize, type Resources, type Synthesized } from "./support.ts";

let synthesized: Synthesized;
let database: Template;
let resources: Resources;
let exported: ReturnType<typeof Database>;
let ids: { writer: string; replica: string; secret: string; attachment: string; parameters: string; networkKey: string; databaseSg: string; serviceSg: string };

/** The first 8 hex digits of the stack's id: new at every creation of the stack (stacks/physical-names.ts). */
const STACK_SUFFIX = { "Fn::Select": [0, { "Fn::Split": ["-", { "Fn::Select": [2, { "Fn::Split": ["/", { Ref: "AWS::StackId" }] }] }] }] };
/** A database identifier scoped to the stack's creation: `<base>-<suffix>`. */
const identifierOf = (base: string) => ({ "Fn::Join": ["", [`${base}-`, STACK_SUFFIX]] });

/** A value imported from the Network stack's export of this logical id (Fn::ImportValue of its name). */
const importOf = (networkLogicalId: string) => ({ "Fn::ImportValue": Match.stringLikeRegexp(`^test-checkout-Network:ExportsOutput.*${networkLogicalId}`) });

beforeAll(async () => {
  synthesized = await synthesize();
  database = synthesized.template("Database");
  resources = synthesized.resources("Database");
  exported = synthesized.outputs.database;
  const network = synthesized.outputs.network;
  ids = {
    writer: logicalId(exported.instance),
    replica: logicalId(exported.replica),
    secret: logicalId(exported.instance.node.findChild("Secret")),
    attachment: logicalId(exported.secret),
    parameters: logicalId(Stack.of(exported.instance).node.findChild("Parameters")),
    networkKey: logicalId(network.key),
    databaseSg: logicalId(network.securityGroups.database),
    serviceSg: logicalId(network.securityGroups.service),
  };
});

describe("Database stack", () => {
  it("returns the instance, replica, the secret attached to the instance, the two endpoints' hostnames, the port and the database name", () => {
    expect(Object.keys(exported).sort()).toEqual(["databaseName", "instance", "port", "readerEndpoint", "replica", "secret", "serviceRoleSecret", "writerEndpoint"]);
    expect(exported.port).toBe(5432);
    expect(resources[ids.attachment]).toMatchObject({
      Type: "AWS::SecretsManager::SecretTargetAttachment",
      Properties: { SecretId: { Ref: ids.secret }, TargetId: { Ref: ids.writer } },
    });
    expect(exported.databaseName).toBe("checkout");
    const stack = Stack.of(exported.instance);
    expect(stack.resolve(exported.writerEndpoint)).toEqual({ "Fn::GetAtt": [ids.writer, "Endpoint.Address"] });
    expect(stack.resolve(exported.readerEndpoint)).toEqual({ "Fn::GetAtt": [ids.replica, "Endpoint.Address"] });
  });

  describe("writer instance", () => {
    it("is RDS PostgreSQL (an instance, not Aurora) in Multi-AZ, not publicly accessible", () => {
      database.resourceCountIs("AWS::RDS::DBCluster", 0);
      database.hasResourceProperties("AWS::RDS::DBInstance", { Engine: "postgres", MultiAZ: true, PubliclyAccessible: false, DBName: "checkout", Port: "5432" });
      expect(resources[ids.writer]!.Properties).toMatchObject({ Engine: "postgres", MultiAZ: true, PubliclyAccessible: false });
    });

    it("encrypts storage and Performance Insights with the Network stack's KMS key", () => {
      const properties = resources[ids.writer]!.Properties;
      expect(properties).toMatchObject({ StorageEncrypted: true, EnablePerformanceInsights: true });
      database.hasResourceProperties("AWS::RDS::DBInstance", {
        DBInstanceIdentifier: identifierOf("test-checkout-postgres"),
        KmsKeyId: importOf(ids.networkKey),
        PerformanceInsightsKMSKeyId: importOf(ids.networkKey),
      });
    });

    it("is deletion-protected and leaves a snapshot if it is ever removed from the stack", () => {
      expect(resources[ids.writer]!.Properties.DeletionProtection).toBe(true);
      expect(resources[ids.writer]!.DeletionPolicy).toBe("Snapshot");
    });

    it("keeps automated backups for 7 days on dev-like stages", () => {
      expect(resources[ids.writer]!.Properties.BackupRetentionPeriod).toBe(7);
    });

    it("exports the postgresql and upgrade logs and takes minor version upgrades automatically", () => {
      expect(resources[ids.writer]!.Properties).toMatchObject({ EnableCloudwatchLogsExports: ["postgresql", "upgrade"], AutoMinorVersionUpgrade: true });
    });

    it("lives in the isolated subnets behind the database security group", () => {
      const subnetGroup = resources[(resources[ids.writer]!.Properties.DBSubnetGroupName as { Ref: string }).Ref]!;
      expect(subnetGroup.Properties.SubnetIds).toEqual([
        { "Fn::ImportValue": expect.stringMatching(/isolatedSubnet1/) },
        { "Fn::ImportValue": expect.stringMatching(/isolatedSubnet2/) },
      ]);
      database.hasResourceProperties("AWS::RDS::DBInstance", { DBInstanceIdentifier: identifierOf("test-checkout-postgres"), VPCSecurityGroups: [importOf(ids.databaseSg)] });
    });

    it("uses a parameter group that refuses connections without TLS", () => {
      expect(resources[ids.parameters]!.Properties.Parameters).toMatchObject({ "rds.force_ssl": "1" });
      expect(resources[ids.writer]!.Properties.DBParameterGroupName).toEqual({ Ref: ids.parameters });
    });

    it("takes its master password from the generated secret, with no IAM database authentication", () => {
      expect(JSON.stringify(resources[ids.writer]!.Properties.MasterUserPassword)).toContain(`{"Ref":"${ids.secret}"}`);
      expect(resources[ids.writer]!.Properties.EnableIAMDatabaseAuthentication).toBeUndefined();
    });
  });

  describe("credentials", () => {
    it("are generated in Secrets Manager and encrypted with the KMS key", () => {
      expect(resources[ids.secret]!.Type).toBe("AWS::SecretsManager::Secret");
      expect(resources[ids.secret]!.Properties).toMatchObject({
        GenerateSecretString: { GenerateStringKey: "password", SecretStringTemplate: JSON.stringify({ username: "checkout" }) },
      });
      database.hasResourceProperties("AWS::SecretsManager::Secret", { KmsKeyId: importOf(ids.networkKey) });
    });

    it("include the service role's (checkout_app), generated apart from the owner's and encrypted with the same key", () => {
      const id = logicalId(exported.serviceRoleSecret);
      expect(id).not.toBe(ids.secret);
      expect(resources[id]).toMatchObject({
        Type: "AWS::SecretsManager::Secret",
        Properties: {
          GenerateSecretString: { SecretStringTemplate: JSON.stringify({ username: "checkout_app" }), GenerateStringKey: "password", ExcludePunctuation: true },
          KmsKeyId: { "Fn::ImportValue": expect.stringMatching(ids.networkKey) },
        },
      });
      expect((resources[id]!.Properties.GenerateSecretString as { PasswordLength: number }).PasswordLength).toBeGreaterThanOrEqual(32);
      // Not attached to the instance: RDS never makes it the master user.
      expect(
        Object.values(resources)
          .filter((r) => r.Type === "AWS::SecretsManager::SecretTargetAttachment")
          .map((r) => r.Properties.SecretId),
      ).toEqual([{ Ref: ids.secret }]);
    });

    it("rotate every 30 days with Secrets Manager's hosted single-user PostgreSQL rotation, inside the VPC", () => {
      expect(database.toJSON().Transform).toEqual("AWS::SecretsManager-2020-07-23");
      database.resourceCountIs("AWS::SecretsManager::RotationSchedule", 1);
      database.hasResourceProperties("AWS::SecretsManager::RotationSchedule", {
        RotationRules: { ScheduleExpression: "rate(30 days)" },
        HostedRotationLambda: {
          RotationType: "PostgreSQLSingleUser",
          KmsKeyArn: importOf(ids.networkKey),
          // The service group is the only one the database admits; private subnets reach the Secrets Manager API.
          VpcSecurityGroupIds: importOf(ids.serviceSg),
          VpcSubnetIds: { "Fn::Join": ["", [importOf("privateSubnet1"), ",", importOf("privateSubnet2")]] },
        },
      });
    });
  });

  describe("read replica", () => {
    it("replicates the writer", () => {
      expect(JSON.stringify(resources[ids.replica]!.Properties.SourceDBInstanceIdentifier)).toContain(`{"Ref":"${ids.writer}"}`);
    });

    it("is encrypted with the writer's key, which RDS carries over to a same-region replica (it refuses an explicit KmsKeyId)", () => {
      expect(resources[ids.replica]!.Properties.StorageEncrypted).toBe(true);
      expect(resources[ids.replica]!.Properties.KmsKeyId).toBeUndefined();
      expect(resources[ids.writer]!.Properties).toMatchObject({ StorageEncrypted: true, KmsKeyId: { "Fn::ImportValue": expect.stringMatching(ids.networkKey) } });
      expect(JSON.stringify(resources[ids.replica]!.Properties.SourceDBInstanceIdentifier)).toContain(":rds:us-east-1:");
    });

    it("has the writer's hardening: private, encrypted, deletion-protected, Multi-AZ, TLS-only, logs exported", () => {
      expect(resources[ids.replica]!.Properties).toMatchObject({
        PubliclyAccessible: false,
        StorageEncrypted: true,
        DeletionProtection: true,
        MultiAZ: true,
        EnableCloudwatchLogsExports: ["postgresql", "upgrade"],
        EnablePerformanceInsights: true,
        AutoMinorVersionUpgrade: true,
        DBParameterGroupName: { Ref: ids.parameters },
      });
      database.hasResourceProperties("AWS::RDS::DBInstance", {
        DBInstanceIdentifier: identifierOf("test-checkout-postgres-replica"),
        PerformanceInsightsKMSKeyId: importOf(ids.networkKey),
        VPCSecurityGroups: [importOf(ids.databaseSg)],
      });
    });

    it("lives in the isolated subnets", () => {
      const subnetGroup = resources[(resources[ids.replica]!.Properties.DBSubnetGroupName as { Ref: string }).Ref]!;
      expect(subnetGroup.Properties.SubnetIds).toEqual([
        { "Fn::ImportValue": expect.stringMatching(/isolatedSubnet1/) },
        { "Fn::ImportValue": expect.stringMatching(/isolatedSubnet2/) },
      ]);
    });
  });

  describe("exported logs", () => {
    it.each([
      ["writer", "test-checkout-postgres"],
      ["replica", "test-checkout-postgres-replica"],
    ] as const)("go to log groups created before the %s, encrypted with the key and with a retention", (which, identifier) => {
      const instance = resources[which === "writer" ? ids.writer : ids.replica]!;
      for (const type of ["postgresql", "upgrade"]) {
        const name = { "Fn::Join": ["", [`/aws/rds/instance/${identifier}-`, STACK_SUFFIX, `/${type}`]] };
        const [groupId, group] = Object.entries(resources).find(([, r]) => r.Type === "AWS::Logs::LogGroup" && JSON.stringify(r.Properties.LogGroupName) === JSON.stringify(name))!;
        expect(group.Properties).toMatchObject({ RetentionInDays: 30, KmsKeyId: { "Fn::ImportValue": expect.stringMatching(ids.networkKey) } });
        expect(instance.DependsOn).toContain(groupId);
      }
    });
  });

  it("leaves no unsuppressed cdk-nag error on the Database stack", () => {
    const errors = synthesized.findings.filter((f) => f.stack.endsWith("-Database") && f.level === "error");
    if (errors.length > 0) console.log(errors.map((e) => `${e.path}\n    ${e.message}`).join("\n"));
    expect(errors).toEqual([]);
  });
});

describe("Database stack on the prod stage", () => {
  let prod: Resources;
  beforeAll(async () => {
    prod = (await synthesize("prod")).resources("Database");
  });

  it("keeps automated backups for 14 days on production-grade instances", () => {
    const writer = Object.values(prod).find(
      (r) => r.Type === "AWS::RDS::DBInstance" && JSON.stringify(r.Properties.DBInstanceIdentifier) === JSON.stringify(identifierOf("prod-checkout-postgres")),
    )!;
    expect(writer.Properties).toMatchObject({ BackupRetentionPeriod: 14, DBInstanceClass: "db.m7g.2xlarge", MultiAZ: true });
  });

  it("keeps both secrets and the exported logs (a year) if the stack is ever deleted, but not after a rolled-back creation", () => {
    const secrets = Object.values(prod).filter((r) => r.Type === "AWS::SecretsManager::Secret");
    expect(secrets).toHaveLength(2);
    // Generated names: a secret kept by a rollback never blocks the retry.
    for (const secret of secrets) {
      expect(secret.DeletionPolicy).toBe("Retain");
      expect(secret.Properties.Name).toBeUndefined();
    }
    const groups = Object.values(prod).filter((r) => r.Type === "AWS::Logs::LogGroup");
    expect(groups).toHaveLength(4);
    for (const group of groups) {
      expect(group.DeletionPolicy).toBe("RetainExceptOnCreate");
      expect(group.UpdateReplacePolicy).toBe("Retain");
      expect(group.Properties.RetentionInDays).toBe(365);
    }
  });
});
