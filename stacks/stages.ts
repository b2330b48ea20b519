// Stage → region, read from the one stage map in config.ts.
import { stageConfig, stages } from "./config.ts";

export const stageRegions: Record<string, string> = Object.fromEntries(Object.entries(stages).map(([name, config]) => [name, config.region]));

export function regionForStage(stage: string): string {
  return stageConfig(stage).region;
}
