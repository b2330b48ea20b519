// cdk-nag's AwsSolutions and PCI DSS 3.2.1 packs over the whole app: zero unsuppressed errors, and every
// suppression names its rule, its resource and a reason, printed here so a reviewer sees the full list.
import { describe, expect, it } from "vitest";
import { listSuppressions } from "../compliance.ts";
import { synthesize } from "./support.ts";

interface MetadataSuppression {
  id: string;
  reason?: string;
}

describe("compliance (cdk-nag)", () => {
  it("leaves no unsuppressed AwsSolutions or PCI DSS 3.2.1 error anywhere in the app", async () => {
    const { findings } = await synthesize();
    const errors = findings.filter((f) => f.level === "error");
    if (errors.length > 0) console.log(errors.map((e) => `${e.stack} ${e.path}\n    ${e.message}`).join("\n"));
    expect(errors).toEqual([]);
  });

  it("prints every suppression, each with a rule, a resource and a reason of a full sentence", async () => {
    const { app } = await synthesize();
    const suppressions = listSuppressions(app);
    console.log(`${suppressions.length} cdk-nag suppressions:\n${suppressions.map((s) => `  ${s.rule.padEnd(48)} ${s.path}\n      ${s.reason}`).join("\n")}`);
    const unexplained = suppressions.filter((s) => s.reason.trim().length < 30 || !/[.!]$/.test(s.reason.trim()) || s.rule.trim() === "");
    expect(unexplained).toEqual([]);
  });

  it("has no suppression in the templates that bypassed the reviewed registry", async () => {
    const { app, stacks, resources: resourcesOf } = await synthesize();
    const registered = new Set(listSuppressions(app).map((s) => s.rule));
    const stray: string[] = [];
    for (const stack of stacks) {
      for (const [logicalId, resource] of Object.entries(resourcesOf(stack.node.id))) {
        for (const rule of (resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) as MetadataSuppression[]) {
          if (!registered.has(rule.id)) stray.push(`${stack.node.id}/${logicalId}: ${rule.id}`);
        }
      }
    }
    expect(stray).toEqual([]);
  });
});
