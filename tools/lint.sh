#!/usr/bin/env bash
# make lint: formatting, checksrc and the include graph. Exits non-zero on any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h')
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files || status=1
tools/checksrc.sh || status=1
tools/incgraph.sh || status=1
exit $status
