#!/usr/bin/env bash
# Node lifecycle and hardening checks; see hardening.py. Usage: tests/node/run.sh BUILD
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
exec python3 tests/node/hardening.py "$BUILD/tansiq"
