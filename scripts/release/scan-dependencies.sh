#!/usr/bin/env bash
# The release's dependency scan: what ships (production dependencies of every workspace package) against the npm
# advisory database; a high or critical advisory fails the release. The image is scanned separately (Trivy, in CI).
set -euo pipefail
case "${1:-}" in
  -h|--help)
    cat <<'HELP'
scripts/release/scan-dependencies.sh

Runs `pnpm audit --prod --audit-level high` from the repository root: exit 0 when no production dependency has a known
high or critical vulnerability, non-zero otherwise (and when the advisory database cannot be reached).
HELP
    exit 0 ;;
  "") ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac
cd "$(git rev-parse --show-toplevel)"
exec pnpm audit --prod --audit-level high
