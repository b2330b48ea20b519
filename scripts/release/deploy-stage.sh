#!/usr/bin/env bash
# The release's deploy: bundle the API and `sst deploy` one stage (SST builds and pushes the image, then CloudFormation
# updates the stacks and ECS starts its blue/green deployment). Records when it started, for wait-for-ecs-deployment.ts.
set -euo pipefail
usage() {
  cat <<'HELP'
scripts/release/deploy-stage.sh --stage STAGE

Runs `pnpm --filter @checkout/api bundle` and `pnpm exec sst deploy --stage STAGE` with the AWS credentials of the
environment. Prints the start time (ISO) and, under GitHub Actions, writes it as the step output `started-at`: pass it
to `wait-for-ecs-deployment.ts --since` so that only this release's ECS deployment is waited for.
HELP
}
stage=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --stage) stage="${2:?--stage needs a value}"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -z "$stage" ]; then echo "--stage is required" >&2; usage >&2; exit 2; fi
cd "$(git rev-parse --show-toplevel)"
started_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "deploying stage ${stage} (started ${started_at})"
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "started-at=${started_at}" >> "$GITHUB_OUTPUT"; fi
pnpm --filter @checkout/api bundle
pnpm exec sst deploy --stage "$stage"
