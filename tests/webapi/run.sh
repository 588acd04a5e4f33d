#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/webapi/run.sh BUILD - the dashboard's JSON API end to end: webapi.py (two nodes and a
# failing partner over HTTPS, every dashboard route as users with Basic auth). Prints its
# checks, then "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
TQ="$BUILD/tansiq"
passed=0
failed=0
status=0
for s in webapi; do
  out=$(python3 "tests/webapi/$s.py" "$TQ" 2>&1)
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
