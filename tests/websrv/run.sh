#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/websrv/run.sh BUILD - the dashboard served by a real node over HTTPS (websrv.py): the
# page and its assets (security headers, ETag and 304, gzip, 404, 405), sign-in with a session
# cookie (its attributes, the same 401 for a wrong password and an unknown user), the cookie on
# /json/ and /events/ but never on TAXII, CSRF on a cookie's POST, logout, the idle timeout,
# and login throttling. Ends with "N passed, N failed".
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
exec python3 tests/websrv/websrv.py "$BUILD/tansiq"
