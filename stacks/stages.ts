// Stage → region map: prod in us-east-1 with eu-west-1 and ap-southeast-1 prepared as configuration.
export const stageRegions: Record<string, string> = {
  dev: "us-east-1",
  staging: "us-east-1",
  prod: "us-east-1",
  "prod-eu": "eu-west-1",
  "prod-apac": "ap-southeast-1",
};

export function regionForStage(stage: string): string {
  return stageRegions[stage] ?? "us-east-1";
}
