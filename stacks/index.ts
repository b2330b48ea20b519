// The app's stacks in dependency order, shared by sst.config.ts and the offline synthesis tests.
import type { App } from "sst/constructs";
import { Api } from "./Api.ts";
import { applyCompliance } from "./compliance.ts";
import { Database } from "./Database.ts";
import { Monitoring } from "./Monitoring.ts";
import { Network } from "./Network.ts";
import { Web } from "./Web.ts";

export function addStacks(app: App): void {
  app.stack(Network).stack(Database).stack(Api).stack(Web).stack(Monitoring);
  applyCompliance(app);
}
