// The app builds in every mode SST uses: deploy (`sst deploy`), dev (`sst dev`) and remove (`sst bind`, `sst remove`).
// In dev and remove mode SST's Service and StaticSite are placeholders with no `cdk` object.
import { readFileSync } from "node:fs";
import type { App } from "sst/constructs";
import { describe, expect, it } from "vitest";
import { loadEnv } from "../../packages/api/src/env.ts";
import { localApiEnvironment } from "../api-local.ts";
import { SITE_PATH } from "../Web.ts";
import { buildApp } from "./support.ts";

/** Every resource type in a stack's synthesized template. */
function resourceTypes(assembly: ReturnType<App["synth"]>, artifactId: string): string[] {
  const template = assembly.getStackArtifact(artifactId).template as { Resources?: Record<string, { Type: string }> };
  return Object.values(template.Resources ?? {}).map((resource) => resource.Type);
}

describe("sst dev (dev mode)", () => {
  it("builds the API and the site as placeholders and deploys no network, database, load balancer or ECS service", async () => {
    const { stacks, assembly } = await buildApp("dev");
    expect(stacks.map((stack) => stack.node.id)).toEqual(["test-checkout-Api", "test-checkout-Web"]);
    const types = stacks.flatMap((stack) => resourceTypes(assembly, stack.artifactId));
    for (const absent of ["AWS::EC2::VPC", "AWS::RDS::DBInstance", "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ECS::Service", "AWS::CloudFront::Distribution"]) {
      expect(types).not.toContain(absent);
    }
    // SST's stand-in for the service: the function whose environment and role `sst bind` hands the local API.
    expect(types).toContain("AWS::Lambda::Function");
  });

  it("gives the local API settings env.ts accepts: a development process on the embedded database", async () => {
    const { app } = await buildApp("dev");
    const environment = localApiEnvironment(app.stage);
    // What `sst bind` adds beside the service's environment (SST's names and the role's credentials).
    const bound = {
      ...environment,
      SST_APP: "checkout",
      SST_STAGE: app.stage,
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
      AWS_REGION: app.region,
    };
    const env = loadEnv(bound);
    expect(env.NODE_ENV).toBe("development");
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.PAYMENT_SANDBOX).toBe(true);
    expect(Object.keys(environment).filter((name) => name.startsWith("DATABASE_"))).toEqual([]);
  });
});

describe("sst bind and sst remove (remove mode)", () => {
  it("builds every stack a deployed stage has, so `sst remove` removes them all", async () => {
    const deployed = await buildApp("deploy");
    const removing = await buildApp("remove");
    expect(removing.stacks.map((stack) => stack.stackName)).toEqual(deployed.stacks.map((stack) => stack.stackName));
  });

  it("keeps the API service at packages/api, where `sst bind` looks for it by directory", async () => {
    const { stacks } = await buildApp("remove");
    const api = stacks.find((stack) => stack.node.id.endsWith("-Api"))!;
    const service = api.node.findChild("Api") as unknown as { props: { path: string }; cdk: unknown };
    expect(service.props.path).toBe("packages/api");
    expect(service.cdk).toBeUndefined();
  });
});

describe("the sst:* scripts", () => {
  const scripts = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;

  it("run `sst bind` inside the directory of the construct it binds (SST matches a service or site by its path)", async () => {
    const { stacks } = await buildApp("remove");
    const api = stacks.find((stack) => stack.node.id.endsWith("-Api"))!;
    const servicePath = (api.node.findChild("Api") as unknown as { props: { path: string } }).props.path;
    expect(scripts["sst:api"]).toMatch(new RegExp(`^cd ${servicePath} && sst bind "`));
    expect(scripts["sst:web"]).toMatch(new RegExp(`^cd ${SITE_PATH} && sst bind "`));
  });

  it("start the local API with the inspector on loopback, so breakpoints work under sst bind", () => {
    const api = (JSON.parse(readFileSync("packages/api/package.json", "utf8")) as { scripts: Record<string, string> }).scripts;
    const bound = /sst bind "pnpm run ([\w:-]+)"/.exec(scripts["sst:api"]!)?.[1];
    expect(bound).toBeDefined();
    expect(api[bound!]).toContain("--inspect=127.0.0.1:");
  });
});
