#!/usr/bin/env bash
# Node lifecycle, hardening and memory checks; see hardening.py. Usage: tests/node/run.sh BUILD
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
san=
[[ $BUILD == build-san ]] && san=sanitized
exec python3 tests/node/hardening.py "$BUILD/tansiq" $san
