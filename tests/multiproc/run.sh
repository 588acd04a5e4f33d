#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/multiproc/run.sh BUILD_DIR - one node served by several `tansiq serve` processes on one
# PostgreSQL database, under concurrent POSTs, a kill -9 of one process and restarts of the
# PostgreSQL server, and a read-only replica on a hot standby (multiproc.py says what each
# scenario checks). Always on PostgreSQL: a build without the driver, or a cluster that does not
# start, is a failure, never a skip.
#
# Starts its own throwaway cluster with scripts/pg.sh (the scenarios restart it and add a
# standby, so it does not borrow the one scripts/test.sh exports), stops it and every process it
# started (by PID) on exit. Ends with "N passed, N failed" and exits non-zero on any failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$ROOT" && cd "${1:-build}" 2>/dev/null && pwd) || BUILD=${1:-build}
TANSIQ=$BUILD/tansiq
PG=$ROOT/scripts/pg.sh
TLOGCHECK=${TLOGCHECK:-$ROOT/../shared/tools/tlogcheck.py}
passed=0
failed=0
WORK=
pg_dir=

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
finish() {
  echo "$passed passed, $failed failed"
  if ((failed)); then exit 1; fi
  exit 0
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local pid
  # multiproc.py stops its servers; these are the ones it could not (it was killed), by PID,
  # and only while the PID is still a serve process of a home under WORK.
  if [[ -n $WORK && -f $WORK/pids ]]; then
    while read -r pid; do
      if [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] &&
        tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "serve --home $WORK/"; then
        kill -9 "$pid" 2>/dev/null || true
      fi
    done <"$WORK/pids"
  fi
  # A server that would not stop keeps the directory (pg.sh said why).
  local d stopped=1
  if [[ -n $pg_dir ]]; then
    for d in "$pg_dir-standby" "$pg_dir"; do
      [[ ! -f $d/data/postmaster.pid ]] || "$PG" stop "$d" >/dev/null || stopped=0
    done
  fi
  if [[ -n $WORK ]] && ((stopped)); then rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [[ ! -x $TANSIQ ]]; then
  bad "multiproc" "no $TANSIQ: build first (make)"
  finish
fi
have_pg=${TQ_HAVE_POSTGRES:-$(cd "$ROOT" && make -s --no-print-directory config 2>/dev/null |
  sed -n 's/.*TQ_HAVE_POSTGRES=\([01]\).*/\1/p')}
if [[ $have_pg != 1 ]]; then
  bad "multiproc" "not run: this build lacks the PostgreSQL driver (TQ_HAVE_POSTGRES=${have_pg:-?}; scripts/install-deps.sh installs libpq-dev)"
  finish
fi
if ! python3 -c 'import cryptography' 2>/dev/null || [[ ! -f $TLOGCHECK ]]; then
  bad "multiproc" "not run: needs python3 with cryptography and $TLOGCHECK"
  finish
fi

# The server user (postgres, when run as root) must be able to enter WORK.
WORK=$(mktemp -d /tmp/tq-mp-XXXXXX)
chmod 0711 "$WORK"
pg_dir=$WORK/pg
if out=$("$PG" start "$pg_dir" 2>&1); then
  ok "a PostgreSQL cluster on $pg_dir"
else
  bad "PostgreSQL" "the cluster did not start: $(echo "$out" | tail -5)"
  finish
fi

# Lines as they come (a scenario takes tens of seconds); the last one is the script's exit status.
done_seen=0
rc=
while IFS= read -r line; do
  case $line in
  "ok "*) passed=$((passed + 1)); echo "$line" ;;
  "FAIL "*) failed=$((failed + 1)); echo "$line" ;;
  "multiproc: done") done_seen=1 ;;
  "multiproc.py exit "*) rc=${line#multiproc.py exit } ;;
  *) echo "$line" ;;
  esac
done < <(
  set +e # the status is a line of the output, whatever it is
  python3 -u "$HERE/multiproc.py" "$TANSIQ" "$WORK" "$PG" "$pg_dir" "$TLOGCHECK" 2>&1
  echo "multiproc.py exit $?"
)
if [[ $rc != 0 || $done_seen != 1 ]]; then
  bad "multiproc.py" "did not finish (exit ${rc:-?})"
fi
finish
