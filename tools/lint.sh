#!/usr/bin/env bash
# make lint: formatting, checksrc, the include graph and the one write door. Exits non-zero on
# any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h')
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files || status=1
tools/checksrc.sh || status=1
tools/incgraph.sh || status=1
# One write door: objects enter a collection through tq_ingest_put only (docs/internals/ingest.md).
if doors=$(git grep -n 'tq_policy_put(' -- 'src/*.c' ':!src/ingest/*' ':!src/policy/*') ; then
  echo "$doors"
  echo "lint: objects must be stored through tq_ingest_put, not tq_policy_put"
  status=1
fi
exit $status
