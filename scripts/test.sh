#!/usr/bin/env bash
# Run the whole suite against one build directory: unit tests (cmocka), fuzz-corpus replay and
# the integration suite. Ends with the line "N passed, N failed" and exits non-zero on failure.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
export TANSIQ_TESTDATA=${TANSIQ_TESTDATA:-$(cd .. && pwd)/shared/data}
[[ -d $TANSIQ_TESTDATA ]] || echo "note: no test data at $TANSIQ_TESTDATA; data-driven cases will report as skipped"
if [[ $BUILD == build-san ]]; then
  export CMOCKA_TEST_ABORT=1
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$BUILD"/tests/test_*; do
  [[ -x $t ]] || continue
  "$t" >"$log" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  p=${p:-0}
  f=${f:-0}
  if ((rc != 0 && f == 0)); then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  if ((rc != 0)); then
    echo "FAIL unit $(basename "$t")"
    tail -40 "$log"
  else
    echo "ok   unit $(basename "$t"): $p tests"
  fi
done

for r in "$BUILD"/fuzz/replay_*; do
  [[ -x $r ]] || continue
  name=${r##*/replay_}
  corpus=fuzz/corpus/$name
  if [[ ! -d $corpus ]]; then
    echo "FAIL replay $name: no corpus at $corpus"
    failed=$((failed + 1))
    continue
  fi
  if "$r" "$corpus" >"$log" 2>&1; then
    echo "ok   replay $name: $(tail -1 "$log")"
    passed=$((passed + 1))
  else
    echo "FAIL replay $name"
    tail -40 "$log"
    failed=$((failed + 1))
  fi
done

for suite in tests/incgraph/run.sh tests/cli/run.sh tests/node/run.sh tests/integration/run.sh tests/federation/run.sh; do
  [[ -x $suite ]] || continue
  "$suite" "$BUILD" >"$log" 2>&1
  rc=$?
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
  f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
  p=${p:-0}
  f=${f:-0}
  if ((rc != 0 && f == 0)); then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  if ((rc != 0)); then
    echo "FAIL $suite"
    tail -60 "$log"
  else
    echo "ok   $suite: $line"
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
