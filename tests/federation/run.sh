#!/usr/bin/env bash
# Three-node federation property test; see federation.py. Usage: tests/federation/run.sh BUILD
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
exec python3 tests/federation/federation.py "$BUILD/tansiq" ${TQ_FED_SEED:-}
