// Network stack, resource by resource: subnets across AZs, flow logs, the KMS key, and security groups that let only the
// ALB reach the tasks and only the tasks reach the database; no unsuppressed cdk-nag error.
import { beforeAll, describe, expect, it } from "vitest";
import { Stack } from "aws-cdk-lib";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS } from "../edge-origin.ts";
import { logicalId, synthesize, type Resources, type Synthesized } from "./support.ts";

let synthesized: Synthesized;
let network: Template;
let resources: Resources;
let ids: { vpc: string; key: string; alb: string; service: string; database: string; flowLogGroup: string; flowLogRole: string };

const getAtt = (id: string, attribute: string) => ({ "Fn::GetAtt": [id, attribute] });

/** Every rule of one kind for a security group: inline in the group plus the standalone rule resources. */
function rules(kind: "Ingress" | "Egress", groupId: string): Record<string, unknown>[] {
  const inline = (resources[groupId]!.Properties![`SecurityGroup${kind}`] as Record<string, unknown>[] | undefined) ?? [];
  const standalone = Object.values(resources)
    .filter((r) => r.Type === `AWS::EC2::SecurityGroup${kind}` && JSON.stringify(r.Properties!.GroupId) === JSON.stringify(getAtt(groupId, "GroupId")))
    .map((r) => {
      const { GroupId: _groupId, ...rest } = r.Properties!;
      return rest;
    });
  return [...inline, ...standalone];
}

beforeAll(async () => {
  synthesized = await synthesize();
  network = synthesized.template("Network");
  resources = synthesized.resources("Network");
  const { vpc, key, securityGroups } = synthesized.outputs.network;
  const stack = Stack.of(vpc);
  ids = {
    vpc: logicalId(vpc),
    key: logicalId(key),
    alb: logicalId(securityGroups.alb),
    service: logicalId(securityGroups.service),
    database: logicalId(securityGroups.database),
    flowLogGroup: logicalId(stack.node.findChild("FlowLogs")),
    flowLogRole: logicalId(stack.node.findChild("FlowLogRole")),
  };
});

describe("Network stack", () => {
  it("returns the VPC, the KMS key and the three security groups other stacks use", () => {
    const exported = synthesized.outputs.network;
    expect(Object.keys(exported).sort()).toEqual(["key", "securityGroups", "vpc"]);
    expect(Object.keys(exported.securityGroups).sort()).toEqual(["alb", "database", "service"]);
  });

  describe("VPC", () => {
    it("has public, private (with egress) and isolated subnets in each of at least two availability zones", () => {
      network.resourceCountIs("AWS::EC2::VPC", 1);
      const subnets = Object.values(network.findResources("AWS::EC2::Subnet")).map((s) => s.Properties as { AvailabilityZone: string; Tags: { Key: string; Value: string }[] });
      const typeOf = (s: (typeof subnets)[number]) => s.Tags.find((t) => t.Key === "aws-cdk:subnet-type")!.Value;
      const zones = new Set(subnets.map((s) => s.AvailabilityZone));
      expect(zones.size).toBeGreaterThanOrEqual(2);
      for (const type of ["Public", "Private", "Isolated"]) {
        expect(new Set(subnets.filter((s) => typeOf(s) === type).map((s) => s.AvailabilityZone))).toEqual(zones);
      }
    });

    it("gives public subnets no public IPs on launch", () => {
      for (const subnet of Object.values(network.findResources("AWS::EC2::Subnet"))) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    });

    it("routes private subnets out through NAT gateways and gives isolated subnets no route out at all", () => {
      const routeTables = Object.entries(network.findResources("AWS::EC2::RouteTable"));
      const isolatedTables = routeTables.filter(([id]) => id.includes("isolated")).map(([id]) => id);
      const privateTables = routeTables.filter(([id]) => id.includes("private")).map(([id]) => id);
      expect(isolatedTables.length).toBeGreaterThanOrEqual(2);
      const routes = Object.values(network.findResources("AWS::EC2::Route")).map(
        (r) => r.Properties as { RouteTableId: { Ref: string }; NatGatewayId?: unknown; GatewayId?: unknown },
      );
      expect(routes.filter((r) => isolatedTables.includes(r.RouteTableId.Ref))).toEqual([]);
      for (const table of privateTables) {
        const out = routes.filter((r) => r.RouteTableId.Ref === table);
        expect(out).toHaveLength(1);
        expect(out[0]!.NatGatewayId).toBeDefined();
        expect(out[0]!.GatewayId).toBeUndefined();
      }
    });

    it("closes the VPC's default security group", () => {
      network.hasResourceProperties("Custom::VpcRestrictDefaultSG", { DefaultSecurityGroupId: getAtt(ids.vpc, "DefaultSecurityGroup") });
    });
  });

  describe("flow logs", () => {
    it("captures all traffic of the VPC into CloudWatch Logs", () => {
      network.hasResourceProperties("AWS::EC2::FlowLog", {
        ResourceId: { Ref: ids.vpc },
        ResourceType: "VPC",
        TrafficType: "ALL",
        LogDestinationType: "cloud-watch-logs",
        LogGroupName: { Ref: ids.flowLogGroup },
        DeliverLogsPermissionArn: getAtt(ids.flowLogRole, "Arn"),
      });
    });

    it("writes to a log group encrypted with the platform key and kept for a set time", () => {
      network.hasResourceProperties("AWS::Logs::LogGroup", { KmsKeyId: getAtt(ids.key, "Arn"), RetentionInDays: Match.anyValue() });
      expect(resources[ids.flowLogGroup]!.Properties!.KmsKeyId).toEqual(getAtt(ids.key, "Arn"));
      expect(resources[ids.flowLogGroup]!.Properties!.RetentionInDays).toBeGreaterThanOrEqual(30);
    });

    it("delivers with a role whose only permissions are a managed policy for that log group", () => {
      network.resourceCountIs("AWS::IAM::Policy", 0);
      network.hasResourceProperties("AWS::IAM::ManagedPolicy", {
        Roles: [{ Ref: ids.flowLogRole }],
        PolicyDocument: {
          Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: getAtt(ids.flowLogGroup, "Arn") }],
        },
      });
      network.hasResourceProperties("AWS::IAM::Role", {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: "vpc-flow-logs.amazonaws.com" } })] },
      });
    });
  });

  describe("KMS key", () => {
    it("is customer-managed with automatic rotation", () => {
      network.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
      expect(resources[ids.key]!.Properties!.EnableKeyRotation).toBe(true);
    });

    it("lets CloudWatch Logs in the stack's region use it, only for log groups of this account and region", () => {
      network.hasResourceProperties("AWS::KMS::Key", {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: "Allow",
              Principal: { Service: "logs.us-east-1.amazonaws.com" },
              Action: Match.arrayWith(["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"]),
              Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": Match.anyValue() } },
            }),
          ]),
        },
      });
    });

    it("lets Secrets Manager use it on the account's behalf (the database secret)", () => {
      network.hasResourceProperties("AWS::KMS::Key", {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(["kms:Decrypt", "kms:GenerateDataKey*"]),
              Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
            }),
          ]),
        },
      });
    });
  });

  describe("security groups", () => {
    it("ALB: accepts only HTTPS from CloudFront's origin-facing prefix list, nothing from anywhere else", () => {
      const ingress = rules("Ingress", ids.alb);
      expect(ingress).toEqual([expect.objectContaining({ SourcePrefixListId: CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS["us-east-1"], IpProtocol: "tcp", FromPort: 443, ToPort: 443 })]);
      expect(ingress[0]).not.toHaveProperty("CidrIp");
      expect(ingress[0]).not.toHaveProperty("CidrIpv6");
    });

    it("ALB: sends only to the service security group on 3000", () => {
      expect(rules("Egress", ids.alb)).toEqual([
        expect.objectContaining({ DestinationSecurityGroupId: getAtt(ids.service, "GroupId"), IpProtocol: "tcp", FromPort: 3000, ToPort: 3000 }),
      ]);
    });

    it("service: accepts only the ALB's security group on 3000", () => {
      expect(rules("Ingress", ids.service)).toEqual([
        expect.objectContaining({ SourceSecurityGroupId: getAtt(ids.alb, "GroupId"), IpProtocol: "tcp", FromPort: 3000, ToPort: 3000 }),
      ]);
    });

    it("service: sends only HTTPS (AWS APIs), smtps to Amazon SES (465) and PostgreSQL to the database security group", () => {
      const egress = rules("Egress", ids.service);
      expect(egress).toHaveLength(3);
      expect(egress).toContainEqual(expect.objectContaining({ CidrIp: "0.0.0.0/0", IpProtocol: "tcp", FromPort: 443, ToPort: 443 }));
      expect(egress).toContainEqual(expect.objectContaining({ CidrIp: "0.0.0.0/0", IpProtocol: "tcp", FromPort: 465, ToPort: 465 }));
      expect(egress).toContainEqual(expect.objectContaining({ DestinationSecurityGroupId: getAtt(ids.database, "GroupId"), IpProtocol: "tcp", FromPort: 5432, ToPort: 5432 }));
    });

    it("database: accepts only the service security group on 5432", () => {
      expect(rules("Ingress", ids.database)).toEqual([
        expect.objectContaining({ SourceSecurityGroupId: getAtt(ids.service, "GroupId"), IpProtocol: "tcp", FromPort: 5432, ToPort: 5432 }),
      ]);
    });

    it("database: has no egress (only CDK's placeholder rule that matches no traffic)", () => {
      expect(rules("Egress", ids.database)).toEqual([{ CidrIp: "255.255.255.255/32", Description: "Disallow all traffic", IpProtocol: "icmp", FromPort: 252, ToPort: 86 }]);
    });

    it("opens nothing to 0.0.0.0/0 or ::/0 anywhere in the app, the ALB included", () => {
      const open: string[] = [];
      for (const stack of synthesized.stacks) {
        const all = synthesized.resources(stack.node.id);
        for (const [id, resource] of Object.entries(all ?? {})) {
          const ingress =
            resource.Type === "AWS::EC2::SecurityGroup"
              ? ((resource.Properties?.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? [])
              : resource.Type === "AWS::EC2::SecurityGroupIngress"
                ? [resource.Properties!]
                : [];
          for (const rule of ingress) {
            if (rule.CidrIp !== "0.0.0.0/0" && rule.CidrIpv6 !== "::/0") continue;
            open.push(`${stack.node.id}/${id}: ${JSON.stringify(rule)}`);
          }
        }
      }
      expect(open).toEqual([]);
    });
  });

  it("leaves no unsuppressed cdk-nag error on the Network stack", () => {
    const errors = synthesized.findings.filter((f) => f.stack.endsWith("-Network") && f.level === "error");
    if (errors.length > 0) console.log(errors.map((e) => `${e.path}\n    ${e.message}`).join("\n"));
    expect(errors).toEqual([]);
  });
});
