#!/usr/bin/env bash
# Run the name-matching evaluation (tools/eval_screen.c) against one build directory, on the
# shared test data read in place. Extra arguments go to the program (-v lists the misses; a
# part name - bench, ofac, ar2en, un, psi - runs that part only; --check holds each figure at
# its floor, as tests/eval/run.sh does).
set -uo pipefail
BUILD=${1:-build}
shift || true
cd "$(dirname "$0")/.."
export TANSIQ_TESTDATA=${TANSIQ_TESTDATA:-$(cd .. && pwd)/shared/data}
exec "$BUILD/tools/eval_screen" "$@"
