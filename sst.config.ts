// SST v2 app: name, stage → region (stacks/config.ts), and the stacks (stacks/index.ts).
import type { SSTConfig } from "sst";
import { addStacks } from "./stacks/index.ts";
import { regionForStage } from "./stacks/stages.ts";

export default {
  config(input) {
    const stage = input.stage ?? "dev";
    return { name: "checkout", region: regionForStage(stage), stage };
  },
  stacks(app) {
    addStacks(app);
  },
} satisfies SSTConfig;
