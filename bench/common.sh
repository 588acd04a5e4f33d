# SPDX-License-Identifier: Apache-2.0
#
# bench/common.sh - what the shell benchmarks share; sourced, never run. Usage at the top of a
# bench: `source "$(dirname "$0")/common.sh" "${1:-build}"`. Sets ROOT, BUILD (absolute),
# TANSIQ, TESTDATA, BUNDLE (the ATT&CK ICS bundle), SECS (BENCH_SECONDS, default 10) and WORK
# (a temporary directory), defines bench_home, and traps EXIT to stop every PID in pids[] (and those written to
# $WORK/server.pids by servers started in subshells) and remove WORK.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$ROOT" && cd "${1:-build}" && pwd)
TANSIQ=$BUILD/tansiq
TESTDATA=${TANSIQ_TESTDATA:-$ROOT/../shared/data}
BUNDLE=$TESTDATA/attack/ics-attack-18.1.json
SECS=${BENCH_SECONDS:-10}
WORK=$(mktemp -d /tmp/tq-bench-XXXXXX)
pids=()

bench_cleanup() {
  local p
  if [[ -f $WORK/server.pids ]]; then
    while read -r p; do pids+=("$p"); done <"$WORK/server.pids"
  fi
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
  done
  rm -rf "$WORK"
}
trap bench_cleanup EXIT

# A home at $WORK/home (H) with user bench / bench-pw reading and writing 'shared'; $1 names
# the bench in the failure message.
bench_home() {
  H=$WORK/home
  "$TANSIQ" init --home "$H" >/dev/null 2>&1 || { echo "$1: init failed"; exit 1; }
  echo bench-pw | "$TANSIQ" user add bench --password-stdin --home "$H" >/dev/null 2>&1
  "$TANSIQ" user grant bench shared --read --write --home "$H" >/dev/null 2>&1
}
