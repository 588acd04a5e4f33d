#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/screen/run.sh BUILD - name screening end to end (screen.py): the CLI's single query in
# words and JSON, a UN reference found from an Arabic name, a batch with bad rows, and the JSON
# API (a user, no credentials, malformed queries, a stix list a user may not read, the audit
# event). Prints each check, then "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
exec python3 tests/screen/screen.py "$BUILD/tansiq"
