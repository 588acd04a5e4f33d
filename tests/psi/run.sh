#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/psi/run.sh BUILD - private set intersection between two nodes over mutual TLS (psi.py):
# grants, both sides' results, cardinality, refusals, the rate limit and both audit logs.
# Prints the checks, then "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
out=$(python3 tests/psi/psi.py "$BUILD/tansiq" 2>&1)
rc=$?
echo "$out"
if ((rc != 0)) && ! echo "$out" | grep -qE '^[0-9]+ passed, [1-9][0-9]* failed$'; then
  echo "psi.py: exit status $rc"
  echo "0 passed, 1 failed"
fi
exit $rc
