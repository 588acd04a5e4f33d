#!/usr/bin/env bash
# The three-node federation tests: federation.py (releasability, sync, audit log under crashes),
# fail_closed.py (the release policy on mutated markings across two hops) and scenarios.py (one
# named check per reported leak). Usage: tests/federation/run.sh BUILD
# TQ_FED_SEED picks federation.py's seed, TQ_FC_SEEDS fail_closed.py's (default 1 2 3).
# Each script's own total is printed as "NAME: N passed, N failed", then the combined
# "N passed, N failed"; exits non-zero when any script failed.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
TQ="$BUILD/tansiq"
passed=0
failed=0
status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

suite() {
  local name=$1
  shift
  python3 "$@" 2>&1 | tee "$out" | sed -u -E "s/^([0-9]+ passed, [0-9]+ failed)\$/$name: \1/"
  local rc=${PIPESTATUS[0]}
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
  f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
  p=${p:-0}
  f=${f:-0}
  if ((rc != 0 && f == 0)); then
    echo "$name: exit status $rc"
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  if ((rc != 0)); then status=1; fi
}

# shellcheck disable=SC2086
suite federation tests/federation/federation.py "$TQ" ${TQ_FED_SEED:-}
# shellcheck disable=SC2086
suite fail_closed tests/federation/fail_closed.py "$TQ" ${TQ_FC_SEEDS:-}
suite scenarios tests/federation/scenarios.py "$TQ"
echo "$passed passed, $failed failed"
if ((failed != 0)); then status=1; fi
exit $status
