#!/usr/bin/env bash
# The name matcher's figures held at their floors: runs `$BUILD/tools/eval_screen --check`
# (built by `make all`; this script builds nothing) on the labelled data in $TANSIQ_TESTDATA
# (default ../shared/data), read in place. tools/eval_screen.c says which floors are goals and
# which regression floors. Data that is absent fails the suite only when TANSIQ_TESTDATA was
# set explicitly (scripts/test.sh passes that on in TQ_TESTDATA_EXPLICIT); otherwise the parts
# are reported as skipped. Ends with "N passed, N failed".
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
explicit=${TQ_TESTDATA_EXPLICIT-${TANSIQ_TESTDATA:+1}}
export TANSIQ_TESTDATA=${TANSIQ_TESTDATA:-$(cd .. && pwd)/shared/data}
bin=$BUILD/tools/eval_screen
if [[ ! -x $bin ]]; then
  echo "FAIL: $bin is not built (make all and make eval build it)"
  echo "0 passed, 1 failed"
  exit 1
fi
"$bin" --check
rc=$?
if ((rc == 3)); then
  if [[ -n $explicit ]]; then
    echo "FAIL: data absent under TANSIQ_TESTDATA=$TANSIQ_TESTDATA"
    echo "0 passed, 1 failed"
    exit 1
  fi
  exit 0
fi
exit "$rc"
