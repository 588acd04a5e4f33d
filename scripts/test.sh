#!/usr/bin/env bash
# Run the whole suite against one build directory: unit tests (cmocka), fuzz-corpus replay and
# the integration suite. Ends with the line "N passed, N failed" and exits non-zero on failure.
#
# PostgreSQL: when the build has the driver (TQ_HAVE_POSTGRES, from the environment or `make
# config`), one throwaway cluster (scripts/pg.sh) runs for the whole suite and its place is
# exported to every test (TQ_TEST_PG_*); test_store and test_store_copy run again with
# TQ_TEST_STORE=postgres, the integration suite again on PostgreSQL and, outside the sanitizer
# build, the federation suite again on PostgreSQL and mixed, those two side by side
# (docs/internals/testing.md). A cluster that does not start, or a build without libpq, is a
# failure: the PostgreSQL store is not optional for the project. tests/multiproc (several serve
# processes of one node, faults, a replica) starts a cluster of its own.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
# Suites that must fail on absent data only when it was asked for by name read this.
export TQ_TESTDATA_EXPLICIT=${TQ_TESTDATA_EXPLICIT-${TANSIQ_TESTDATA:+1}}
export TANSIQ_TESTDATA=${TANSIQ_TESTDATA:-$(cd .. && pwd)/shared/data}
[[ -d $TANSIQ_TESTDATA ]] || echo "note: no test data at $TANSIQ_TESTDATA; data-driven cases will report as skipped"
if [[ $BUILD == build-san ]]; then
  export CMOCKA_TEST_ABORT=1
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

passed=0
failed=0
logs=$(mktemp -d)
log=$logs/log
pg_dir=
bg_groups=()
cleanup() {
  local g
  for g in "${bg_groups[@]}"; do
    kill -TERM -- "-$g" 2>/dev/null
  done
  rm -rf "$logs"
  # a server that would not stop keeps its directory (pg.sh said why)
  if [[ -n $pg_dir ]] &&
    { [[ ! -f $pg_dir/data/postmaster.pid ]] || scripts/pg.sh stop "$pg_dir" >/dev/null; }; then
    rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT

# ---- the PostgreSQL cluster every suite shares ----------------------------------------------
have_pg=${TQ_HAVE_POSTGRES:-$(make -s --no-print-directory config 2>/dev/null |
  sed -n 's/.*TQ_HAVE_POSTGRES=\([01]\).*/\1/p')}
pg_ok=0
if [[ $have_pg != 1 ]]; then
  echo "FAIL postgres: the PostgreSQL runs were not done: this build lacks libpq (TQ_HAVE_POSTGRES=${have_pg:-?}; scripts/install-deps.sh installs libpq-dev)"
  failed=$((failed + 1))
else
  # the server user (postgres, when run as root) must be able to enter the directory
  # fsync off: the cluster is thrown away, and only a machine crash would lose what it wrote
  pg_dir=$(mktemp -d /tmp/tq-testpg-XXXXXX)
  if TQ_PG_FSYNC=off scripts/pg.sh start "$pg_dir" >"$log" 2>&1; then
    pg_ok=1
    export TQ_TEST_PG_DIR=$pg_dir
    export TQ_TEST_PG_HOST=$pg_dir
    TQ_TEST_PG_PORT=$(sed -n 's/^PGPORT=//p' "$pg_dir/env")
    export TQ_TEST_PG_PORT
    export TQ_TEST_PG_SCRIPT=$ROOT/scripts/pg.sh
    echo "ok   postgres: a test cluster on $pg_dir/.s.PGSQL.$TQ_TEST_PG_PORT"
  else
    echo "FAIL postgres: the test cluster did not start, so no PostgreSQL run was done"
    tail -30 "$log"
    failed=$((failed + 1))
  fi
fi

# took SECONDS: " (N s)" when a step took a second or more.
took() {
  (($1 < 1)) || echo " ($1 s)"
}

# unit BINARY [STORE]: one cmocka binary, with TQ_TEST_STORE=STORE (default sqlite).
unit() {
  local t=$1 store=${2:-} label rc p f t0=$SECONDS
  label=$(basename "$t")${store:+ [$store]}
  TQ_TEST_STORE=${store:-sqlite} "$t" >"$log" 2>&1
  rc=$?
  # a binary may run several groups: each ends with its own PASSED and FAILED counts
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
  if ((rc != 0 && f == 0)); then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  if ((rc != 0)); then
    echo "FAIL unit $label"
    tail -40 "$log"
  else
    echo "ok   unit $label: $p tests$(took $((SECONDS - t0)))"
  fi
}

# Unit tests that also run on PostgreSQL (they read TQ_TEST_STORE and TQ_TEST_PG_*).
PG_UNITS=(test_store test_store_copy test_monitor_store test_watchlist test_screening test_psi_store test_psi_node test_web)

for t in "$BUILD"/tests/test_*; do
  [[ -x $t ]] || continue
  unit "$t"
done
if ((pg_ok)); then
  for u in "${PG_UNITS[@]}"; do
    if [[ -x $BUILD/tests/$u ]]; then
      unit "$BUILD/tests/$u" postgres
    else
      echo "FAIL unit $u [postgres]: no $BUILD/tests/$u"
      failed=$((failed + 1))
    fi
  done
fi

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

# count LABEL OUT RC SECONDS: add up the "N passed, N failed" line of a suite's output OUT
# (exit status RC) and print the result.
count() {
  local label=$1 out=$2 rc=$3 secs=$4 line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
  f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
  p=${p:-0}
  f=${f:-0}
  if ((rc != 0 && f == 0)); then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  if ((rc != 0)); then
    echo "FAIL $label"
    # the failed checks first (they may be far from the end), then how the suite ended
    grep -E '^(FAIL|not ok)' "$out" | head -20 | sed 's/^/  | /'
    tail -60 "$out"
  else
    echo "ok   $label: $line$(took "$secs")"
  fi
}

# suite SCRIPT [STORE]: one suite, with TQ_TEST_STORE=STORE (default sqlite).
suite() {
  local t0=$SECONDS rc
  TQ_TEST_STORE=${2:-sqlite} "$1" "$BUILD" >"$log" 2>&1
  rc=$?
  count "$1${2:+ [$2]}" "$log" "$rc" $((SECONDS - t0))
}

# suite_bg SCRIPT STORE OUT [NAME=VALUE...]: the suite started in the background, in a process
# group of its own (stopped on exit if still running), with TQ_TEST_STORE=STORE and the
# variables given; its output goes to OUT, its exit status and seconds to OUT.rc.
suite_bg() {
  local script=$1 store=$2 out=$3
  shift 3
  set -m
  (
    t0=$SECONDS
    env TQ_TEST_STORE="$store" "$@" "$script" "$BUILD" >"$out" 2>&1
    echo "$? $((SECONDS - t0))" >"$out.rc"
  ) &
  bg_groups+=($!)
  set +m
}

# suite_wait LABEL OUT: wait for the background suites, then count the one that wrote OUT.
suite_wait() {
  local rc secs
  wait "${bg_groups[@]}"
  read -r rc secs <"$2.rc" 2>/dev/null || { rc=1; secs=0; }
  count "$1" "$2" "$rc" "$secs"
}

# tests/multiproc is always on PostgreSQL, on a cluster of its own (it restarts it): without
# the driver it fails by itself.
for s in tests/incgraph/run.sh tests/cli/run.sh tests/node/run.sh tests/pg/run.sh \
  tests/integration/run.sh tests/monitor/run.sh tests/webapi/run.sh tests/websrv/run.sh \
  tests/screen/run.sh tests/psi/run.sh tests/federation/run.sh tests/multiproc/run.sh \
  tests/i18n/run.sh tests/web/run.sh; do
  [[ -x $s ]] || continue
  # The browser suite drives the same C through HTTP as tests/websrv, which does run under
  # the sanitizers; Chromium under it would add minutes and find nothing more in the node.
  if [[ $s == tests/web/run.sh && $BUILD == build-san ]]; then
    echo "note: tests/web (the dashboard in Chromium): run by make test, not under the sanitizers"
    continue
  fi
  suite "$s"
done
suite tests/eval/run.sh
if ((pg_ok)); then
  suite tests/integration/run.sh postgres
  suite tests/monitor/run.sh postgres
  suite tests/webapi/run.sh postgres
  suite tests/websrv/run.sh postgres
  suite tests/screen/run.sh postgres
  suite tests/psi/run.sh postgres
  # The two federation runs go side by side: they wait on the server far more than they
  # compute. fail_closed.py's three seeds are most of a federation run, and several times
  # slower on PostgreSQL: each run takes one seed of its own (TQ_FC_SEEDS, when set, wins).
  # Under the sanitizers (build-san) they are left to `make test`: they exercise the same
  # driver code as the runs above, at several times the cost.
  if [[ $BUILD != build-san ]]; then
    suite_bg tests/federation/run.sh postgres "$logs/fed-postgres" TQ_FC_SEEDS="${TQ_FC_SEEDS:-1}"
    suite_bg tests/federation/run.sh mixed "$logs/fed-mixed" TQ_FC_SEEDS="${TQ_FC_SEEDS:-2}"
    suite_wait "tests/federation/run.sh [postgres]" "$logs/fed-postgres"
    suite_wait "tests/federation/run.sh [mixed]" "$logs/fed-mixed"
    bg_groups=()
  else
    echo "note: federation on PostgreSQL and mixed: run by make test, not under the sanitizers"
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
