#!/usr/bin/env bash
# The release's build: the API bundle (packages/api/dist), the web app (packages/web/dist) and the API container image,
# built from packages/api/Dockerfile exactly as SST builds it at deploy time, tagged for the scan step.
set -euo pipefail
usage() {
  cat <<'HELP'
scripts/release/build-artifacts.sh [--tag TAG] [--no-image]

Builds the API bundle (pnpm --filter @checkout/api bundle), the web app (pnpm --filter @checkout/web build) and the API
image (docker build packages/api, tagged checkout-api:TAG; TAG defaults to the commit, or "local"). --no-image skips
the image (a machine without Docker). Run from anywhere in the repository.
HELP
}
tag="$(git rev-parse --short=12 HEAD 2>/dev/null || echo local)"
build_image=1
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --no-image) build_image=0; shift ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
cd "$(git rev-parse --show-toplevel)"
pnpm --filter @checkout/api bundle
pnpm --filter @checkout/web build
if [ "$build_image" = 1 ]; then
  docker build --pull --tag "checkout-api:${tag}" packages/api
  echo "image checkout-api:${tag}"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "image=checkout-api:${tag}" >> "$GITHUB_OUTPUT"; fi
fi
