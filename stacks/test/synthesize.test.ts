// The whole app synthesizes offline, with every stack present.
import { describe, expect, it } from "vitest";
import { synthesize } from "./support.ts";

describe("offline synthesis", () => {
  it("builds every stack with no AWS credentials or network", async () => {
    const { stacks, template } = await synthesize();
    expect(stacks.map((s) => s.node.id)).toEqual(["test-checkout-Network", "test-checkout-Database", "test-checkout-Api", "test-checkout-Web", "test-checkout-Monitoring"]);
    template("Network").resourceCountIs("AWS::EC2::VPC", 1);
  });
});
