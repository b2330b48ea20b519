// Stages and regions: one stage map (dev, staging, prod; prod-eu and prod-apac prepared), the region following the
// stage into every stack and ARN, and production settings where the stage is production.
import { describe, expect, it } from "vitest";
import sstConfig from "../../sst.config.ts";
import { stageConfig, stages } from "../config.ts";
import { regionForStage } from "../stages.ts";
import { ofType, synthesize, type Resources } from "./support.ts";

const propertiesOf = (resources: Resources, type: string) => ofType(resources, type).map(([, properties]) => properties);

describe("the stage map", () => {
  it("puts dev, staging and prod in us-east-1 and prepares eu-west-1 and ap-southeast-1 for prod", () => {
    expect(Object.fromEntries(Object.keys(stages).map((name) => [name, regionForStage(name)]))).toEqual({
      dev: "us-east-1",
      staging: "us-east-1",
      prod: "us-east-1",
      "prod-eu": "eu-west-1",
      "prod-apac": "ap-southeast-1",
    });
  });

  it("gives personal and test stages dev's settings under their own domain", () => {
    expect(regionForStage("alice")).toBe("us-east-1");
    expect(stageConfig("alice")).toMatchObject({ stage: "alice", isProduction: false, domain: { web: "alice.dev.shop.example.com", api: "api.alice.dev.shop.example.com" } });
  });

  it("keeps each stage's ALB certificate in its own region and every CloudFront certificate in us-east-1", () => {
    for (const config of Object.values(stages)) {
      expect(config.apiCertificateArn.split(":")[3], config.stage).toBe(config.region);
      expect(config.webCertificateArn.split(":")[3], config.stage).toBe("us-east-1");
      expect(new URL(config.paymentFieldUrl).protocol, config.stage).toBe("https:");
    }
  });

  it("is what sst.config.ts deploys: the stage picks the region, dev by default", () => {
    const configOf = (stage?: string) => sstConfig.config({ stage } as Parameters<typeof sstConfig.config>[0]);
    expect(configOf("prod-eu")).toEqual({ name: "checkout", region: "eu-west-1", stage: "prod-eu" });
    expect(configOf("prod-apac")).toMatchObject({ region: "ap-southeast-1" });
    expect(configOf(undefined)).toEqual({ name: "checkout", region: "us-east-1", stage: "dev" });
  });
});

describe("prod", () => {
  it("synthesizes with production settings: Multi-AZ deletion-protected database with 14 days of backups, a year of logs, on-call email", async () => {
    const { stacks, template, resources, findings } = await synthesize("prod");
    expect(stacks.map((s) => [s.stackName, s.region])).toEqual(["Network", "Database", "Api", "Web", "Monitoring"].map((name) => [`prod-checkout-${name}`, "us-east-1"]));
    const [writer] = propertiesOf(resources("Database"), "AWS::RDS::DBInstance").filter((p) => !p.SourceDBInstanceIdentifier);
    expect(writer).toMatchObject({ MultiAZ: true, DeletionProtection: true, BackupRetentionPeriod: 14, StorageEncrypted: true });
    const logBucket = propertiesOf(resources("Web"), "AWS::S3::Bucket").find((p) => p.OwnershipControls?.Rules?.[0]?.ObjectOwnership === "BucketOwnerPreferred")!;
    expect(logBucket.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(365);
    template("Monitoring").hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "oncall@example.com" });
    template("Monitoring").hasResourceProperties("AWS::CloudWatch::Alarm", { AlarmName: "checkout-prod-api-5xx-rate" });
    const distribution = propertiesOf(resources("Web"), "AWS::CloudFront::Distribution")[0]!.DistributionConfig;
    expect(distribution.Aliases).toEqual(["shop.example.com"]);
    expect(distribution.Origins.find((o: { CustomOriginConfig?: unknown }) => o.CustomOriginConfig).DomainName).toBe("api.shop.example.com");
    const csp = propertiesOf(resources("Web"), "AWS::CloudFront::ResponseHeadersPolicy")[0]!.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy
      .ContentSecurityPolicy;
    expect(csp).toContain("frame-src https://field.payments.example.com;");
    expect(findings.filter((f) => f.level === "error" && /-(Web|Monitoring)$/.test(f.stack))).toEqual([]);
  });
});

describe.each([
  ["prod-eu", "eu-west-1", "eu.shop.example.com"],
  ["prod-apac", "ap-southeast-1", "apac.shop.example.com"],
])("%s, a prepared region", (stage, region, webDomain) => {
  it(`places every stack in ${region} and carries the region into its ARNs`, async () => {
    const { stacks, template, resources, findings } = await synthesize(stage);
    expect(stacks.map((s) => [s.stackName, s.region])).toEqual(["Network", "Database", "Api", "Web", "Monitoring"].map((name) => [`${stage}-checkout-${name}`, region]));
    // The ALB's certificate is regional; the replica names its source by an ARN in the same region.
    template("Api").hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", { Port: 443, Certificates: [{ CertificateArn: stages[stage]!.apiCertificateArn }] });
    expect(stages[stage]!.apiCertificateArn).toContain(`:acm:${region}:`);
    const replica = propertiesOf(resources("Database"), "AWS::RDS::DBInstance").find((p) => p.SourceDBInstanceIdentifier)!;
    expect(JSON.stringify(replica.SourceDBInstanceIdentifier)).toContain(`:rds:${region}:`);
    // Alarms may publish from this region's CloudWatch only.
    const topicPolicy = propertiesOf(resources("Monitoring"), "AWS::SNS::TopicPolicy")[0]!;
    const publish = topicPolicy.PolicyDocument.Statement.find((s: { Sid?: string }) => s.Sid === "CloudWatchAlarmsPublish");
    expect(JSON.stringify(publish.Condition)).toContain(`:cloudwatch:${region}:`);
    // CloudFront is global: its certificate stays in us-east-1 whatever the stage's region.
    const distribution = propertiesOf(resources("Web"), "AWS::CloudFront::Distribution")[0]!.DistributionConfig;
    expect(distribution.Aliases).toEqual([webDomain]);
    expect(distribution.ViewerCertificate.AcmCertificateArn).toContain(":acm:us-east-1:");
    expect(findings.filter((f) => f.level === "error" && /-(Web|Monitoring)$/.test(f.stack))).toEqual([]);
  });
});
