// The app's stacks in dependency order, shared by sst.config.ts and the offline synthesis tests.
import type { App } from "sst/constructs";
import { Api } from "./Api.ts";
import { applyCompliance } from "./compliance.ts";
import { Database } from "./Database.ts";
import { isLoadGeneratorStage, LoadGenerators } from "./LoadGenerators.ts";
import { Monitoring } from "./Monitoring.ts";
import { Network } from "./Network.ts";
import { Web } from "./Web.ts";

export function addStacks(app: App): void {
  // `sst dev`: the API and the web app run on the developer's machine (embedded PostgreSQL, payment sandbox), so the
  // stage gets only their placeholders; a network, a database and alarms would cost money and serve nothing.
  // Remove mode (`sst bind`, `sst remove`) keeps every stack, so `sst remove` finds all a deployed stage has.
  // The `loadgen` stage is the distributed load tester's generators alone, in every mode (packages/loadtest/README.md).
  if (isLoadGeneratorStage(app.stage)) {
    app.stack(LoadGenerators);
  } else if (app.mode === "dev") {
    app.stack(Api).stack(Web);
  } else {
    app.stack(Network).stack(Database).stack(Api).stack(Web).stack(Monitoring);
  }
  applyCompliance(app);
}
