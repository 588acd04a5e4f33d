#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/monitor/run.sh BUILD - border monitoring end to end: monitor.py (one node: boundaries,
# event files, tagging, alerts, the JSON API and the event stream, the UCDP agreement) and
# correlation.py (three nodes, cross-partner correlation alerts). Prints each script's checks,
# then "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
TQ="$BUILD/tansiq"
passed=0
failed=0
status=0
for s in monitor correlation; do
  out=$(python3 "tests/monitor/$s.py" "$TQ" 2>&1)
  rc=$?
  echo "$out"
  line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
  f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
  p=${p:-0}
  f=${f:-0}
  if ((rc != 0 && f == 0)); then
    echo "$s: exit status $rc"
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  ((rc != 0)) && status=1
done
echo "$passed passed, $failed failed"
exit $status
