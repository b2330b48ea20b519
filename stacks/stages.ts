// Stage → region, read from the one stage map in config.ts.
import { stageConfig } from "./config.ts";

export function regionForStage(stage: string): string {
  return stageConfig(stage).region;
}
