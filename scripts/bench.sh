#!/usr/bin/env bash
# Run every benchmark against one build directory. Each prints its own figures and the ratio to
# its reference, measured in the same run.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
export TANSIQ_TESTDATA=${TANSIQ_TESTDATA:-$(cd .. && pwd)/shared/data}
status=0
for b in "$BUILD"/bench/bench_*; do
  [[ -x $b ]] || continue
  echo "== ${b##*/}"
  "$b" || status=1
done
for s in bench/bench_*.sh; do
  [[ -x $s ]] || continue
  echo "== ${s##*/}"
  "$s" "$BUILD" || status=1
done
# The dashboard in Chromium (bench/web/run.sh: a 1,000,000-incident home is filled once per
# commit and kept under BUILD/bench-web/).
if [[ -x bench/web/run.sh ]]; then
  echo "== bench/web"
  bench/web/run.sh "$BUILD" || status=1
fi
exit $status
