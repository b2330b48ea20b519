// Network: the VPC (public, private and isolated subnets across two or more AZs, flow logs), the platform KMS key,
// and the security groups that let only CloudFront reach the ALB, only the ALB reach the tasks and only the tasks
// reach the database.
import type { StackContext } from "sst/constructs";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import { suppress } from "./compliance.ts";
import { stageConfig } from "./config.ts";
import { SMTP_PORT } from "./api-task-contract.ts";
import { cloudFrontPrefixListId } from "./edge-origin.ts";

/** The port the API container listens on (the ALB's target port). */
export const SERVICE_PORT = 3000;
export const DATABASE_PORT = 5432;

export function Network({ stack, app }: StackContext): {
  vpc: ec2.Vpc;
  key: kms.Key;
  securityGroups: { alb: ec2.SecurityGroup; service: ec2.SecurityGroup; database: ec2.SecurityGroup };
} {
  const config = stageConfig(app.stage);

  const key = new kms.Key(stack, "Key", {
    description: `checkout ${app.stage}: logs, RDS storage and Secrets Manager`,
    enableKeyRotation: true,
    removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(30),
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "AllowCloudWatchLogs",
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      resources: ["*"],
      conditions: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${stack.partition}:logs:${stack.region}:${stack.account}:*` } },
    }),
  );

  const vpc = new ec2.Vpc(stack, "Vpc", {
    maxAzs: 2,
    // Removes every rule from the VPC's default security group, so nothing that lands in it can talk at all.
    restrictDefaultSecurityGroup: true,
    natGateways: config.isProduction ? 2 : 1,
    subnetConfiguration: [
      { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      { name: "isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
  });

  const flowLogGroup = new logs.LogGroup(stack, "FlowLogs", {
    encryptionKey: key,
    retention: config.isProduction ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
    removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  // The delivery role's permissions live in a managed policy (PCI DSS asks for no inline policies); CDK's own grant to
  // the role is switched off so it does not add an inline one beside it.
  const flowLogRole = new iam.Role(stack, "FlowLogRole", {
    assumedBy: new iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
    description: "VPC flow logs: write to the flow-log group",
  });
  new iam.ManagedPolicy(stack, "FlowLogPolicy", {
    roles: [flowLogRole],
    statements: [
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        resources: [flowLogGroup.logGroupArn],
      }),
    ],
  });
  vpc.addFlowLog("FlowLog", {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup, flowLogRole.withoutPolicyUpdates()),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });

  const alb = new ec2.SecurityGroup(stack, "AlbSecurityGroup", {
    vpc,
    description: "ALB: HTTPS from CloudFront's origin-facing addresses only; only to the service",
    allowAllOutbound: false,
  });
  const service = new ec2.SecurityGroup(stack, "ServiceSecurityGroup", {
    vpc,
    description: "API tasks: only from the ALB; out to AWS APIs (443) and the database",
    allowAllOutbound: false,
  });
  const database = new ec2.SecurityGroup(stack, "DatabaseSecurityGroup", {
    vpc,
    description: "RDS PostgreSQL: only from the API tasks",
    allowAllOutbound: false,
  });

  // Only CloudFront reaches the ALB, over HTTPS (its origin protocol policy). The managed prefix list counts as its
  // maximum size (55 entries) against the 60 inbound rules a security group may hold, so it can back one rule, not two:
  // there is no port 80 rule and no port 80 listener.
  alb.addIngressRule(ec2.Peer.prefixList(cloudFrontPrefixListId(stack.region)), ec2.Port.tcp(443), "HTTPS from CloudFront origin-facing addresses only");
  alb.addEgressRule(service, ec2.Port.tcp(SERVICE_PORT), "to the API tasks");
  service.addIngressRule(alb, ec2.Port.tcp(SERVICE_PORT), "from the ALB");
  service.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "AWS APIs and the payment provider over HTTPS");
  // Amazon SES's SMTP endpoint (email-smtp.<region>.amazonaws.com) has no fixed addresses; smtps on 465 only.
  service.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(SMTP_PORT), "Amazon SES SMTP over TLS (smtps)");
  service.addEgressRule(database, ec2.Port.tcp(DATABASE_PORT), "to PostgreSQL");
  database.addIngressRule(service, ec2.Port.tcp(DATABASE_PORT), "from the API tasks");

  for (const subnet of vpc.publicSubnets) {
    suppress(subnet, [
      {
        rule: "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
        reason:
          "The public subnets hold only the internet-facing ALB and the NAT gateways, which need a default route to the internet gateway; the tasks and the database sit in private and isolated subnets without one.",
      },
    ]);
  }
  return { vpc, key, securityGroups: { alb, service, database } };
}
