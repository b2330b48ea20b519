// The API when SST does not deploy it: `sst dev` (the API runs on the developer's machine) and remove mode (`sst bind`,
// `sst remove`). SST's Service is then a placeholder with no `cdk` object, so nothing here may reach for one.
import type { Stack } from "aws-cdk-lib";
import { Service } from "sst/constructs";
import { SERVICE_PORT } from "./Network.ts";

/** The web app's Vite dev server: where a developer under `sst dev` opens the shop (it proxies /trpc to the API). */
export const LOCAL_WEB_URL = "http://localhost:5173";
/** Where the local API listens, the same as `pnpm start`. */
export const LOCAL_API_PORT = 3000;

export interface LocalApiOutputs {
  /** SST's placeholder for the service: `sst bind` in packages/api hands its environment to the local process. */
  service: Service;
  /** Marks the outputs of a mode in which no AWS resource serves the API. */
  local: true;
}

/**
 * The settings the local API gets from `sst bind`: a development process on this machine with the embedded
 * PostgreSQL and the payment sandbox. Nothing names a deployed database: the stage's RDS sits in isolated subnets that
 * a laptop cannot reach, and env.ts refuses a half-given database.
 */
export function localApiEnvironment(stage: string): Record<string, string> {
  return {
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: String(LOCAL_API_PORT),
    PUBLIC_URL: LOCAL_WEB_URL,
    DEV_WEB_ORIGIN: LOCAL_WEB_URL,
    LOG_LEVEL: "debug",
    // One release label per stage, shown by /health, so a developer sees which stage's settings a process runs with.
    APP_VERSION: `sst-dev-${stage}`.slice(0, 64),
  };
}

/** Builds the placeholder service under the same id and path as the deployed one, so `sst bind` finds it by directory. */
export function localApi(stack: Stack, stage: string): LocalApiOutputs {
  const service = new Service(stack, "Api", {
    path: "packages/api",
    file: "Dockerfile",
    port: SERVICE_PORT,
    environment: localApiEnvironment(stage),
    dev: { deploy: false, url: `http://localhost:${LOCAL_API_PORT}` },
  });
  return { service, local: true };
}

/** Whether the Api stack's outputs are the deployed service's (deploy mode) rather than the local placeholder's. */
export function isDeployedApi<T extends object>(api: T | LocalApiOutputs): api is T {
  return !("local" in api);
}
