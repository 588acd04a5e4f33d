#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/pg.sh - throwaway PostgreSQL 15 clusters for tests and benchmarks.
#
#   scripts/pg.sh start DIR [PORT]           initdb DIR/data when absent, start, wait until ready
#   scripts/pg.sh stop DIR                   fast shutdown (immediate if that times out)
#   scripts/pg.sh restart DIR [fast|immediate]  restart in place (fault tests)
#   scripts/pg.sh status DIR                 exit 0 when the server of DIR accepts connections
#   scripts/pg.sh createdb DIR [NAME]        a new empty database (PostGIS installed, from
#                                            template1); prints its tansiq store URI
#   scripts/pg.sh dropdb DIR NAME            drop it (after its clients are gone)
#   scripts/pg.sh uri DIR NAME               the store URI of database NAME, nothing created
#   scripts/pg.sh standby DIR STANDBYDIR [PORT]  pg_basebackup -R of DIR's server, started as a
#                                            hot standby on its own socket
#   scripts/pg.sh psql DIR [PSQL ARGS...]    psql on the cluster (database postgres by default)
#
# A cluster listens on a Unix socket in DIR only (listen_addresses = ''), so no TCP port is
# taken and two clusters never collide: the port number only names the socket file
# DIR/.s.PGSQL.PORT (5433 by default, TQ_PG_PORT or the PORT argument to choose; a standby
# takes its primary's port + 1). DIR/env holds PGHOST, PGPORT and PGUSER for `. DIR/env`; the
# server log is DIR/server.log. Store URIs are postgresql:///NAME?host=DIR&port=PORT.
#
# The cluster's superuser has the name of the user who runs this script, so libpq's default
# user is right for every client run by that user and the URIs carry no user=. initdb and
# postgres refuse to run as root: run as root, the server binaries run as TQ_PG_USER
# (default postgres, the Debian package's system user; created with useradd when missing),
# DIR is given to that user, and root keeps reaching the socket (trust authentication on the
# socket, which only local processes can open).
#
# The script only ever stops the server whose postmaster.pid is in DIR/data, through pg_ctl.
# Binaries from TQ_PG_BIN (default /usr/lib/postgresql/15/bin). fsync is on, as in production,
# unless TQ_PG_FSYNC=off when the cluster is made (scripts/test.sh: a cluster thrown away after
# the run loses nothing to it but on a machine crash).
set -euo pipefail

PGBIN=${TQ_PG_BIN:-/usr/lib/postgresql/15/bin}
SERVER_USER=${TQ_PG_USER:-postgres}
MAX_CONNECTIONS=${TQ_PG_MAX_CONNECTIONS:-200}
FSYNC=${TQ_PG_FSYNC:-on}
WAIT_S=${TQ_PG_WAIT_S:-60}
ME=$(id -un)
PROG=${0##*/}

# Connection settings of the caller's environment must not steer the commands run here.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep -E '^PG' || true)

die() {
  echo "$PROG: $*" >&2
  exit 1
}

usage() {
  sed -n '6,/^#$/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

need_bin() {
  local b
  for b in "$@"; do
    [[ -x $PGBIN/$b ]] || die "$PGBIN/$b is missing: install postgresql-15 and postgresql-client-15 (scripts/install-deps.sh)"
  done
}

# as_server CMD...: run CMD as the user the server runs as, from a directory it can enter.
as_server() {
  if ((EUID == 0)); then
    (cd / && runuser -u "$SERVER_USER" -- "$@")
  else
    "$@"
  fi
}

ensure_server_user() {
  ((EUID == 0)) || return 0
  [[ $SERVER_USER != root ]] || die "TQ_PG_USER must not be root: postgres refuses to run as root"
  if ! id -u "$SERVER_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      "$SERVER_USER" || die "cannot create the system user $SERVER_USER to run postgres as"
  fi
}

# abs DIR: the absolute path of DIR (which need not exist yet).
abs() {
  local d=$1
  [[ -n $d ]] || die "empty directory name"
  [[ $d == /* ]] || d=$PWD/$d
  realpath -m -- "$d"
}

# pct S: S percent-encoded for a URI query value (unreserved characters and / kept).
pct() {
  local s=$1 out='' c i LC_ALL=C
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
    [A-Za-z0-9._~/-]) out+=$c ;;
    *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

# prepare_dir DIR: create DIR, owned by the server user, and check that user can reach it.
prepare_dir() {
  local dir=$1
  mkdir -p -- "$dir"
  if ((EUID == 0)); then
    chown "$SERVER_USER": "$dir"
    chmod 0700 "$dir"
    as_server test -w "$dir" -a -x "$dir" ||
      die "user $SERVER_USER cannot reach $dir (a parent directory is closed to it); use a directory such as \$(mktemp -d /tmp/tq-pg-XXXXXX)"
  fi
  # sun_path holds 107 bytes and a NUL
  local sock="$dir/.s.PGSQL.65535.lock"
  ((${#sock} <= 107)) || die "$dir is too long for a Unix socket path (at most about 90 bytes)"
}

# read_env DIR: PORT and SUPER of the cluster in DIR, from DIR/env.
read_env() {
  local dir=$1
  [[ -f $dir/env ]] || die "no cluster in $dir (no $dir/env; run: $PROG start $dir)"
  PORT=$(sed -n 's/^PGPORT=//p' "$dir/env")
  SUPER=$(sed -n 's/^PGUSER=//p' "$dir/env")
  [[ $PORT =~ ^[0-9]+$ && -n $SUPER ]] || die "$dir/env is damaged"
}

write_env() {
  local dir=$1 port=$2 extra=${3:-}
  {
    printf 'PGHOST=%s\nPGPORT=%s\nPGUSER=%s\n' "$dir" "$port" "$ME"
    printf 'export PGHOST PGPORT PGUSER\n'
    [[ -z $extra ]] || printf '%s\n' "$extra"
  } >"$dir/env.tmp"
  mv -f "$dir/env.tmp" "$dir/env"
}

# settings DIR PORT: the cluster's own settings, included from postgresql.conf.
settings() {
  cat <<EOF
# written by scripts/pg.sh: a throwaway cluster on a Unix socket only
listen_addresses = ''
unix_socket_directories = '$1'
unix_socket_permissions = 0777
port = $2
max_connections = $MAX_CONNECTIONS
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '128MB'
hot_standby = on
fsync = $FSYNC
synchronous_commit = on
dynamic_shared_memory_type = mmap
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
}

port_ok() {
  if [[ ! $1 =~ ^[0-9]+$ ]] || (($1 < 1024 || $1 > 65535)); then
    die "bad port '$1' (1024-65535)"
  fi
}

# server_pid DIR: the postmaster's PID from DIR/data/postmaster.pid, when it is alive.
server_pid() {
  local f=$1/data/postmaster.pid pid
  [[ -f $f ]] || return 1
  pid=$(head -1 "$f" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

ready() {
  "$PGBIN/pg_isready" -q -h "$1" -p "$2" -U "$3" -d postgres -t 2
}

# wait_ready DIR PORT SUPER: until the server accepts connections, or WAIT_S seconds.
wait_ready() {
  local i
  for ((i = 0; i < WAIT_S * 5; i++)); do
    ready "$1" "$2" "$3" && return 0
    server_pid "$1" >/dev/null || return 1
    sleep 0.2
  done
  return 1
}

show_log() {
  [[ -f $1/server.log ]] || return 0
  echo "--- last lines of $1/server.log:" >&2
  tail -20 "$1/server.log" >&2
}

# pg_start DIR: pg_ctl start on DIR/data, the log in DIR/server.log.
pg_start() {
  local dir=$1
  if ((EUID == 0)); then
    touch "$dir/server.log"
    chown "$SERVER_USER": "$dir/server.log"
  fi
  as_server "$PGBIN/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t "$WAIT_S" -s >/dev/null
}

# halt DIR: stop the server of DIR/data if one runs (fast, then immediate).
halt() {
  local dir=$1 pid
  pid=$(server_pid "$dir") || return 0
  as_server "$PGBIN/pg_ctl" stop -D "$dir/data" -m fast -w -t "$WAIT_S" -s >/dev/null 2>&1 ||
    as_server "$PGBIN/pg_ctl" stop -D "$dir/data" -m immediate -w -t "$WAIT_S" -s >/dev/null 2>&1 ||
    true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "$PROG: the server of $dir (pid $pid) did not stop" >&2
  return 1
}

cmd_start() {
  (($# >= 1 && $# <= 2)) || usage
  local dir port created=0
  dir=$(abs "$1")
  port=${2:-${TQ_PG_PORT:-5433}}
  port_ok "$port"
  [[ $FSYNC == on || $FSYNC == off ]] || die "TQ_PG_FSYNC is on or off, not '$FSYNC'"
  need_bin initdb pg_ctl postgres pg_isready psql
  ensure_server_user
  prepare_dir "$dir"
  if [[ -f $dir/env ]] && server_pid "$dir" >/dev/null; then
    read_env "$dir"
    ready "$dir" "$PORT" "$SUPER" || wait_ready "$dir" "$PORT" "$SUPER" ||
      die "a server runs in $dir but does not accept connections"
    cat "$dir/env"
    return 0
  fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    [[ ! -e $dir/data ]] || die "$dir/data exists but holds no cluster; remove it first"
    if ! as_server "$PGBIN/initdb" -D "$dir/data" -U "$ME" --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      as_server rm -rf "$dir/data"
      die "initdb failed in $dir/data"
    fi
    created=1
    settings "$dir" "$port" >"$dir/tq.conf.tmp"
    as_server tee "$dir/data/tq.conf" <"$dir/tq.conf.tmp" >/dev/null
    rm -f "$dir/tq.conf.tmp"
    echo "include 'tq.conf'" | as_server tee -a "$dir/data/postgresql.conf" >/dev/null
  else
    # an existing cluster keeps its port
    port=$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$dir/data/tq.conf" 2>/dev/null || true)
    [[ -n $port ]] || die "$dir/data holds a cluster this script did not make (no tq.conf)"
  fi
  if ! pg_start "$dir" || ! wait_ready "$dir" "$port" "$ME"; then
    show_log "$dir"
    halt "$dir" || true
    ((created == 0)) || as_server rm -rf "$dir/data"
    die "the server in $dir did not start"
  fi
  write_env "$dir" "$port"
  ((created == 0)) || postgis_template "$dir" "$port"
  cat "$dir/env"
}

# postgis_template DIR PORT: PostGIS in template1 of a new cluster, so that every database made
# from it (CREATE DATABASE, createdb) has it already and the store's migration need not run the
# extension's long script again for each of the many databases tests make.
postgis_template() {
  if ! "$PGBIN/psql" -X -q -h "$1" -p "$2" -U "$ME" -d template1 -v ON_ERROR_STOP=1 \
    -c 'CREATE EXTENSION IF NOT EXISTS postgis' >"$1/postgis.log" 2>&1; then
    echo "$PROG: no PostGIS in $1 (install postgresql-15-postgis-3; scripts/install-deps.sh): stores on this cluster will not open" >&2
    cat "$1/postgis.log" >&2
  fi
}

cmd_stop() {
  (($# == 1)) || usage
  local dir
  dir=$(abs "$1")
  [[ -d $dir/data ]] || die "no cluster in $dir"
  if ! server_pid "$dir" >/dev/null; then
    echo "$PROG: no server running in $dir" >&2
    return 0
  fi
  need_bin pg_ctl
  halt "$dir" || { show_log "$dir"; die "could not stop the server in $dir"; }
}

cmd_restart() {
  (($# >= 1 && $# <= 2)) || usage
  local dir mode=${2:-fast}
  dir=$(abs "$1")
  [[ $mode == fast || $mode == immediate ]] || die "restart mode is fast or immediate, not '$mode'"
  read_env "$dir"
  need_bin pg_ctl pg_isready
  server_pid "$dir" >/dev/null || die "no server running in $dir"
  if ! as_server "$PGBIN/pg_ctl" stop -D "$dir/data" -m "$mode" -w -t "$WAIT_S" -s >/dev/null ||
    ! pg_start "$dir" || ! wait_ready "$dir" "$PORT" "$SUPER"; then
    show_log "$dir"
    die "the server in $dir did not restart"
  fi
}

cmd_status() {
  (($# == 1)) || usage
  local dir pid
  dir=$(abs "$1")
  read_env "$dir"
  pid=$(server_pid "$dir") || die "no server running in $dir"
  ready "$dir" "$PORT" "$SUPER" || die "the server in $dir (pid $pid) does not accept connections"
  echo "pid $pid, socket $dir/.s.PGSQL.$PORT"
}

dbname_ok() {
  [[ $1 =~ ^[a-z_][a-z0-9_]{0,62}$ ]] ||
    die "bad database name '$1' (lower-case letters, digits and _, at most 63)"
}

uri_of() {
  printf 'postgresql:///%s?host=%s&port=%s\n' "$2" "$(pct "$1")" "$3"
}

cmd_uri() {
  (($# == 2)) || usage
  local dir
  dir=$(abs "$1")
  read_env "$dir"
  dbname_ok "$2"
  uri_of "$dir" "$2" "$PORT"
}

cmd_createdb() {
  (($# >= 1 && $# <= 2)) || usage
  local dir name=${2:-}
  dir=$(abs "$1")
  read_env "$dir"
  need_bin createdb
  if [[ -z $name ]]; then
    name=tq_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  fi
  dbname_ok "$name"
  "$PGBIN/createdb" -h "$dir" -p "$PORT" -U "$SUPER" -w -T template1 -E UTF8 "$name" ||
    die "createdb $name failed on the server in $dir"
  uri_of "$dir" "$name" "$PORT"
}

cmd_dropdb() {
  (($# == 2)) || usage
  local dir
  dir=$(abs "$1")
  read_env "$dir"
  dbname_ok "$2"
  need_bin dropdb
  "$PGBIN/dropdb" -h "$dir" -p "$PORT" -U "$SUPER" -w --if-exists "$2" ||
    die "dropdb $2 failed on the server in $dir"
}

cmd_psql() {
  (($# >= 1)) || usage
  local dir
  dir=$(abs "$1")
  shift
  read_env "$dir"
  need_bin psql
  exec "$PGBIN/psql" -X -h "$dir" -p "$PORT" -U "$SUPER" -d postgres -v ON_ERROR_STOP=1 "$@"
}

cmd_standby() {
  (($# >= 2 && $# <= 3)) || usage
  local dir sdir port
  dir=$(abs "$1")
  sdir=$(abs "$2")
  [[ $dir != "$sdir" ]] || die "the standby needs a directory of its own"
  read_env "$dir"
  port=${3:-${TQ_PG_PORT:-$((PORT + 1))}}
  port_ok "$port"
  need_bin pg_basebackup pg_ctl pg_isready psql
  ensure_server_user
  server_pid "$dir" >/dev/null || die "no server running in $dir"
  [[ ! -e $sdir/data ]] || die "$sdir/data exists already"
  prepare_dir "$sdir"
  if ! as_server "$PGBIN/pg_basebackup" -h "$dir" -p "$PORT" -U "$SUPER" -w -D "$sdir/data" \
    -R -X stream -c fast >"$sdir/basebackup.log" 2>&1; then
    cat "$sdir/basebackup.log" >&2
    as_server rm -rf "$sdir/data"
    die "pg_basebackup from $dir failed"
  fi
  settings "$sdir" "$port" >"$sdir/tq.conf.tmp"
  as_server tee "$sdir/data/tq.conf" <"$sdir/tq.conf.tmp" >/dev/null
  rm -f "$sdir/tq.conf.tmp"
  local ok=0 i
  if pg_start "$sdir" && wait_ready "$sdir" "$port" "$SUPER"; then
    for ((i = 0; i < WAIT_S * 5; i++)); do
      if [[ $("$PGBIN/psql" -X -At -h "$sdir" -p "$port" -U "$SUPER" -d postgres \
        -c 'SELECT pg_is_in_recovery()' 2>/dev/null) == t ]]; then
        ok=1
        break
      fi
      sleep 0.2
    done
  fi
  if ((ok == 0)); then
    show_log "$sdir"
    halt "$sdir" || true
    as_server rm -rf "$sdir/data"
    die "the standby in $sdir did not start"
  fi
  write_env "$sdir" "$port" "TQ_PG_PRIMARY=$dir"
  cat "$sdir/env"
}

(($# >= 1)) || usage
sub=$1
shift
case $sub in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
restart) cmd_restart "$@" ;;
status) cmd_status "$@" ;;
createdb) cmd_createdb "$@" ;;
dropdb) cmd_dropdb "$@" ;;
uri) cmd_uri "$@" ;;
standby) cmd_standby "$@" ;;
psql) cmd_psql "$@" ;;
-h | --help | help) usage ;;
*) die "unknown command '$sub' (start, stop, restart, status, createdb, dropdb, uri, standby, psql)" ;;
esac
