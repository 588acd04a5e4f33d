#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/pg/run.sh [BUILD_DIR] - scripts/pg.sh itself: a primary started on a Unix socket only,
# databases made with `createdb` and reached through the store URI it prints, a hot standby
# made with pg_basebackup that receives the primary's rows and refuses writes, fast and
# immediate restarts of the primary (the standby follows), errors that are clear, and after
# `stop` no process of either server left. BUILD_DIR is not used (every suite gets one).
# Ends with "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PG=$ROOT/scripts/pg.sh
PGBIN=${TQ_PG_BIN:-/usr/lib/postgresql/15/bin}
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
# clearly NAME TEXT GOT: a command failed as it should; ok when its message GOT says TEXT.
clearly() { if [[ $3 == *"$2"* ]]; then ok "$1"; else bad "$1" "unclear message: $3"; fi; }

if [[ ! -x $PGBIN/postgres || ! -x $PGBIN/psql ]]; then
  bad "PostgreSQL 15" "no server binaries in $PGBIN (scripts/install-deps.sh installs postgresql-15)"
  echo "$passed passed, $failed failed"
  exit 1
fi

# The servers run as the postgres user when this runs as root: it must be able to enter WORK.
WORK=$(mktemp -d /tmp/tq-pgtest-XXXXXX)
chmod 0711 "$WORK"
P=$WORK/primary
S=$WORK/standby
cleanup() {
  "$PG" stop "$S" >/dev/null 2>&1
  "$PG" stop "$P" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# sql URI SQL: one statement through psql on a store URI; its rows, unaligned.
sql() { "$PGBIN/psql" -X -At -v ON_ERROR_STOP=1 "$1" -c "$2"; }
pid_of() { head -1 "$1/data/postmaster.pid" 2>/dev/null; }
# tree PID: PID and its children (the postmaster's processes).
tree() { echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }
# wait_for URI SQL WANT: until SQL answers WANT, 15 s at most.
wait_for() {
  local i got=
  for ((i = 0; i < 75; i++)); do
    got=$(sql "$1" "$2" 2>/dev/null) && [[ $got == "$3" ]] && return 0
    sleep 0.2
  done
  echo "${got:-no answer}"
  return 1
}

# ---- the primary --------------------------------------------------------------------------
if out=$("$PG" start "$P" 2>&1) && [[ -S $P/.s.PGSQL.5433 ]]; then
  ok "start: a server on $P/.s.PGSQL.5433"
else
  bad "start" "$out"
  echo "$passed passed, $failed failed"
  exit 1
fi
# shellcheck disable=SC1091
if (. "$P/env" && [[ $PGHOST == "$P" && $PGPORT == 5433 && $PGUSER == $(id -un) ]]); then
  ok "env: PGHOST, PGPORT and PGUSER"
else
  bad "env" "$(cat "$P/env")"
fi
PID1=$(pid_of "$P")
if "$PG" start "$P" >/dev/null 2>&1 && [[ $(pid_of "$P") == "$PID1" ]]; then
  ok "start again: the running server is kept"
else
  bad "start again" "pid $PID1 -> $(pid_of "$P")"
fi
if [[ $("$PG" psql "$P" -At -c 'SHOW listen_addresses') == "" ]]; then
  ok "no TCP listener"
else
  bad "no TCP listener" "$("$PG" psql "$P" -At -c 'SHOW listen_addresses' 2>&1)"
fi
got=$("$PG" psql "$P" -At -c 'SHOW fsync' 2>&1)
if [[ $got == on ]]; then ok "fsync on by default"; else bad "fsync on by default" "$got"; fi
got=$("$PG" psql "$P" -At -c 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user' 2>&1)
if [[ $got == t ]]; then ok "the invoking user is the superuser"; else bad "superuser" "$got"; fi
if ((EUID == 0)); then
  owner=$(ps -o user= -p "$PID1" | tr -d ' ')
  if [[ $owner == "${TQ_PG_USER:-postgres}" && $(stat -c %U "$P/data") == "$owner" ]]; then
    ok "run as root: the server runs as $owner"
  else
    bad "run as root" "the server runs as '$owner', data owned by $(stat -c %U "$P/data")"
  fi
fi

# ---- databases ------------------------------------------------------------------------------
U=$("$PG" createdb "$P" tq_pgtest 2>&1)
if [[ $U == "postgresql:///tq_pgtest?host=$P&port=5433" ]]; then ok "createdb prints the store URI"; else
  bad "createdb" "$U"; fi
if got=$(sql "$U" 'SELECT current_database()' 2>&1) && [[ $got == tq_pgtest ]]; then
  ok "the URI reaches the database"
else
  bad "the URI reaches the database" "$got"
fi
U2=$("$PG" createdb "$P" 2>&1)
U3=$("$PG" createdb "$P" 2>&1)
if [[ $U2 =~ ^postgresql:///tq_[0-9a-f]{12}\?host=$P\&port=5433$ && $U2 != "$U3" ]] &&
  sql "$U3" 'SELECT 1' >/dev/null 2>&1; then
  ok "createdb without a name: a fresh database each time"
else
  bad "createdb without a name" "$U2 / $U3"
fi
if got=$("$PG" createdb "$P" tq_pgtest 2>&1); then bad "createdb of an existing name fails" "$got"; else
  ok "createdb of an existing name fails"; fi
if got=$("$PG" createdb "$P" 'Bad;name' 2>&1); then bad "bad database name refused" "$got"; else
  ok "bad database name refused"; fi
if [[ $("$PG" uri "$P" tq_other) == "postgresql:///tq_other?host=$P&port=5433" ]]; then ok "uri"; else
  bad "uri" "$("$PG" uri "$P" tq_other 2>&1)"; fi
name3=${U3#postgresql:///}
name3=${name3%%\?*}
if "$PG" dropdb "$P" "$name3" 2>/dev/null && ! sql "$U3" 'SELECT 1' >/dev/null 2>&1; then
  ok "dropdb"
else
  bad "dropdb" "$name3 still answers"
fi
sql "$U" 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)' >/dev/null 2>&1 ||
  bad "write on the primary" "$(sql "$U" 'SELECT 1' 2>&1)"

# ---- a hot standby --------------------------------------------------------------------------
if out=$("$PG" standby "$P" "$S" 2>&1) && [[ -S $S/.s.PGSQL.5434 && -f $S/data/standby.signal ]]; then
  ok "standby: pg_basebackup -R, a server on $S/.s.PGSQL.5434"
else
  bad "standby" "$out"
fi
SU=$("$PG" uri "$S" tq_pgtest 2>&1)
if [[ $(sql "$SU" 'SELECT pg_is_in_recovery()' 2>&1) == t ]]; then ok "the standby is in recovery"; else
  bad "the standby is in recovery" "$(sql "$SU" 'SELECT pg_is_in_recovery()' 2>&1)"; fi
if got=$(wait_for "$SU" 'SELECT sum(x) FROM t' 1); then ok "the base backup's row is on the standby"; else
  bad "the base backup's row is on the standby" "$got"; fi
sql "$U" 'INSERT INTO t VALUES (2)' >/dev/null
if got=$(wait_for "$SU" 'SELECT sum(x) FROM t' 3); then ok "a row written on the primary streams to the standby"; else
  bad "a row written on the primary streams to the standby" "sum $got, expected 3"; fi
if got=$(sql "$SU" 'INSERT INTO t VALUES (100)' 2>&1); then bad "the standby refuses writes" "$got"; else
  if [[ $got == *"read-only transaction"* ]]; then ok "the standby refuses writes"; else
    bad "the standby refuses writes" "unexpected error: $got"; fi
fi
if got=$("$PG" standby "$P" "$S" 2>&1); then bad "a second standby in the same directory is refused" "$got"; else
  ok "a second standby in the same directory is refused"; fi

# ---- restarts --------------------------------------------------------------------------------
if "$PG" restart "$P" >/dev/null 2>&1 && [[ $(pid_of "$P") != "$PID1" ]] &&
  [[ $(sql "$U" 'SELECT sum(x) FROM t' 2>&1) == 3 ]]; then
  ok "fast restart: a new server, the rows kept"
else
  bad "fast restart" "pid $PID1 -> $(pid_of "$P"), $(sql "$U" 'SELECT sum(x) FROM t' 2>&1)"
fi
sql "$U" 'INSERT INTO t VALUES (4)' >/dev/null 2>&1
if "$PG" restart "$P" immediate >/dev/null 2>&1 && [[ $(sql "$U" 'SELECT sum(x) FROM t' 2>&1) == 7 ]]; then
  ok "immediate restart: crash recovery keeps the committed rows"
else
  bad "immediate restart" "$(sql "$U" 'SELECT sum(x) FROM t' 2>&1)"
fi
sql "$U" 'INSERT INTO t VALUES (8)' >/dev/null 2>&1
if got=$(wait_for "$SU" 'SELECT sum(x) FROM t' 15); then ok "the standby follows the restarted primary"; else
  bad "the standby follows the restarted primary" "sum $got, expected 15"; fi
if got=$("$PG" restart "$P" slow 2>&1); then bad "a bad restart mode is refused" "$got"; else
  ok "a bad restart mode is refused"; fi

# ---- stop -----------------------------------------------------------------------------------
mapfile -t procs < <(tree "$(pid_of "$P")"; tree "$(pid_of "$S")")
if "$PG" stop "$S" && "$PG" stop "$P"; then ok "stop both"; else bad "stop both"; fi
left=()
for p in "${procs[@]}"; do
  [[ -n $p ]] && kill -0 "$p" 2>/dev/null && left+=("$p")
done
if ((${#procs[@]} >= 4 && ${#left[@]} == 0)) && [[ ! -e $P/data/postmaster.pid && ! -e $S/data/postmaster.pid ]] &&
  [[ ! -S $P/.s.PGSQL.5433 && ! -S $S/.s.PGSQL.5434 ]]; then
  ok "no process left (${#procs[@]} were running), no socket left"
else
  bad "no process left" "of ${#procs[@]}: ${left[*]:-none} left; $(find "$P" "$S" -maxdepth 1 -name '.s.*' | tr '\n' ' ')"
fi
if got=$("$PG" stop "$P" 2>&1) && [[ $got == *"no server running"* ]]; then ok "stop again: nothing to do"; else
  bad "stop again" "$got"; fi

# ---- errors -----------------------------------------------------------------------------------
if got=$("$PG" createdb "$P" tq_late 2>&1); then bad "createdb on a stopped server fails" "$got"; else
  ok "createdb on a stopped server fails"; fi
if got=$("$PG" restart "$P" 2>&1); then bad "restart of a stopped server fails" "$got"; else
  clearly "restart of a stopped server fails" "no server running" "$got"
fi
if got=$("$PG" createdb "$WORK/nothing" 2>&1); then bad "a directory without a cluster" "$got"; else
  clearly "a directory without a cluster: clear error" "no cluster in" "$got"
fi
long=$WORK/$(printf 'x%.0s' {1..100})
if got=$("$PG" start "$long" 2>&1); then bad "a socket path too long" "$got"; else
  clearly "a socket path too long: clear error" "too long" "$got"
fi
if ((EUID == 0)); then
  closed=$WORK/closed
  mkdir -m 0700 "$closed"
  if got=$("$PG" start "$closed/pg" 2>&1); then bad "a directory the server user cannot reach" "$got"; else
    clearly "a directory the server user cannot reach: clear error" "cannot reach" "$got"
  fi
fi
# A server that cannot start (its port already taken by a stale lock of another server): the
# error shows the server's log, and the fresh data directory is removed.
B=$WORK/broken
mkdir -p "$B"
((EUID == 0)) && chown "${TQ_PG_USER:-postgres}": "$B"
if got=$(TQ_PG_MAX_CONNECTIONS=-5 "$PG" start "$B" 2>&1); then bad "a server that cannot start" "$got"; else
  if [[ $got == *"did not start"* && $got == *server.log* && ! -e $B/data ]]; then
    ok "a server that cannot start: its log shown, its data removed"
  else
    bad "a server that cannot start" "$got"
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
