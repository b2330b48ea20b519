// SST v2 app: name, stage → region, and the stacks (the infrastructure issue adds them under stacks/).
import type { SSTConfig } from "sst";
import { regionForStage } from "./stacks/stages.ts";

export default {
  config(input) {
    const stage = input.stage ?? "dev";
    return { name: "checkout", region: regionForStage(stage), stage };
  },
  stacks(_app) {
    // Network, database, API service, web and monitoring stacks are added by the infrastructure work.
  },
} satisfies SSTConfig;
