// `pnpm retention:purge`: one retention purge against DATABASE_URL, run until nothing past its retention is left; prints the summary as JSON.
import { Retention } from "@checkout/core";
import { runCli } from "./cli-context.ts";
import { retentionPolicyOf } from "../jobs/policies.ts";

runCli(({ env, db }) => Retention.purge({ db, policy: retentionPolicyOf(env) }));
