// The API image both containers of the task run (the service and migrate), built from packages/api/Dockerfile.
import { existsSync } from "node:fs";
import { IgnoreMode } from "aws-cdk-lib";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import type { StackContext } from "sst/constructs";

/** What packages/api/Dockerfile copies: produced by `pnpm --filter @checkout/api bundle`, not by the Docker build. */
export const BUNDLED_SERVER = "packages/api/dist/server.mjs";

/** Fails a deploy at synthesis with the command to run, rather than later on a Docker COPY of a missing file. */
export function requireBundledServer(app: StackContext["app"]): void {
  if (app.mode !== "deploy" || app.isRunningSSTTest() || existsSync(BUNDLED_SERVER)) return;
  throw new Error(`${BUNDLED_SERVER} is missing: run \`pnpm --filter @checkout/api bundle\` before deploying (the API image copies the bundled server).`);
}

/** The API image, built with the options SST's Service uses. */
export function apiImage(app: StackContext["app"]): ecs.ContainerImage {
  // Tests synthesize without Docker, as SST's own Service does under test (it names the image "placeholder").
  if (app.isRunningSSTTest()) return ecs.ContainerImage.fromRegistry("placeholder");
  return ecs.ContainerImage.fromAsset("packages/api", {
    file: "Dockerfile",
    platform: Platform.LINUX_AMD64,
    exclude: [".sst/dist", ".sst/artifacts"],
    ignoreMode: IgnoreMode.GLOB,
  });
}
