// A failed first deploy can be retried: nothing a rollback leaves behind has a name the retry would ask for again.
// Over every stack of a dev-like and a production stage: a resource whose physical name is fixed in the template is
// never plain Retain (RetainExceptOnCreate, Delete and Snapshot go when the creation rolls back), and a
// deletion-protected database, which a rollback cannot delete, has an identifier scoped to the stack's creation.
import { describe, expect, it } from "vitest";
import { synthesize, type Resources } from "./support.ts";

/** The properties that name a resource, by type: a literal value there is a fixed physical name. */
const NAME_PROPERTIES: Record<string, string[]> = {
  "AWS::Logs::LogGroup": ["LogGroupName"],
  "AWS::RDS::DBInstance": ["DBInstanceIdentifier"],
  "AWS::RDS::DBCluster": ["DBClusterIdentifier"],
  "AWS::SecretsManager::Secret": ["Name"],
  "AWS::S3::Bucket": ["BucketName"],
  "AWS::KMS::Alias": ["AliasName"],
  "AWS::DynamoDB::Table": ["TableName"],
  "AWS::IAM::Role": ["RoleName"],
  "AWS::SSM::Parameter": ["Name"],
  "AWS::ECR::Repository": ["RepositoryName"],
  "AWS::SNS::Topic": ["TopicName"],
  "AWS::SQS::Queue": ["QueueName"],
  "AWS::CloudWatch::Dashboard": ["DashboardName"],
  "AWS::CloudWatch::Alarm": ["AlarmName"],
};

/** True when the value is decided at synthesis: a string, or a Fn::Join of strings and pseudo parameters other than the stack id. */
function isFixed(value: unknown): boolean {
  if (value === undefined) return false;
  const text = JSON.stringify(value);
  return !text.includes('"Ref":"AWS::StackId"') && !/"Ref":"(?!AWS::)|"Fn::GetAtt"|"Fn::ImportValue"/.test(text);
}

/** What would block a retry after a failed first deploy, one line per resource. */
function retryBlockers(resources: Resources): string[] {
  const blockers: string[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const fixed = (NAME_PROPERTIES[resource.Type] ?? []).filter((property) => isFixed(resource.Properties?.[property]));
    if (fixed.length > 0 && resource.DeletionPolicy === "Retain") blockers.push(`${id} (${resource.Type}): ${fixed.join(", ")} fixed and DeletionPolicy Retain`);
    const protectedDatabase = resource.Type === "AWS::RDS::DBInstance" && resource.Properties?.DeletionProtection === true;
    if (protectedDatabase && fixed.includes("DBInstanceIdentifier")) blockers.push(`${id} (${resource.Type}): deletion-protected with a fixed identifier`);
  }
  return blockers;
}

describe("retriable first deploy", () => {
  it.each(["test", "prod"])("%s: no stack keeps a fixed-name resource through a rolled-back creation", async (stage) => {
    const { stacks, resources } = await synthesize(stage);
    const blockers = stacks.flatMap((stack) => retryBlockers(resources(stack.node.id)).map((line) => `${stack.node.id}: ${line}`));
    expect(blockers).toEqual([]);
  });

  it("prod: the resources that outlive the stack are the ones that hold data, and those with names carry the creation's suffix", async () => {
    const { stacks, resources } = await synthesize("prod");
    const kept = stacks.flatMap((stack) =>
      Object.entries(resources(stack.node.id))
        .filter(([, r]) => r.DeletionPolicy === "RetainExceptOnCreate")
        .map(([, r]) => [r.Type, JSON.stringify(r.Properties?.LogGroupName)] as const),
    );
    // The WAF log group and the four RDS export log groups.
    expect(kept).toHaveLength(5);
    for (const [type, name] of kept) {
      expect(type).toBe("AWS::Logs::LogGroup");
      expect(name).toContain('"Ref":"AWS::StackId"');
    }
  });

  it("finds the blockers it is there to find", () => {
    expect(
      retryBlockers({
        Waf: { Type: "AWS::Logs::LogGroup", Properties: { LogGroupName: "aws-waf-logs-checkout-prod" }, DeletionPolicy: "Retain" },
        Joined: { Type: "AWS::Logs::LogGroup", Properties: { LogGroupName: { "Fn::Join": ["", ["/aws/rds/", { Ref: "AWS::Region" }]] } }, DeletionPolicy: "Retain" },
        Db: { Type: "AWS::RDS::DBInstance", Properties: { DBInstanceIdentifier: "prod-checkout-postgres", DeletionProtection: true }, DeletionPolicy: "Snapshot" },
        Scoped: { Type: "AWS::Logs::LogGroup", Properties: { LogGroupName: { "Fn::Join": ["", ["x-", { Ref: "AWS::StackId" }]] } }, DeletionPolicy: "Retain" },
        Generated: { Type: "AWS::S3::Bucket", Properties: {}, DeletionPolicy: "Retain" },
        DroppedOnRollback: { Type: "AWS::Logs::LogGroup", Properties: { LogGroupName: "fixed" }, DeletionPolicy: "RetainExceptOnCreate" },
      }).map((line) => line.split(" ")[0]),
    ).toEqual(["Waf", "Joined", "Db"]);
  });
});
