# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tests/lib/store.sh - sourced by the shell suites: the store of each node a test makes.
#
# TQ_TEST_STORE picks it: sqlite (or unset) keeps HOME/store.db; postgres gives every node a
# fresh database on the cluster in TQ_TEST_PG_DIR (scripts/test.sh starts one; by hand:
# scripts/pg.sh start DIR); mixed alternates, PostgreSQL first. docs/internals/testing.md.

TQ__PG_SH=${TQ_TEST_PG_SCRIPT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/pg.sh}
TQ__STORE_NODES=0

# tq_init CMD...: run CMD, a `tansiq init` command line, with --store URI appended when
# TQ_TEST_STORE puts this node on PostgreSQL (a new empty database made for it). Returns 1,
# with the reason on stderr, when that database cannot be made.
tq_init() {
  local uri='' pg=0
  case ${TQ_TEST_STORE:-sqlite} in
  sqlite) ;;
  postgres) pg=1 ;;
  mixed)
    pg=$(((TQ__STORE_NODES + 1) % 2))
    TQ__STORE_NODES=$((TQ__STORE_NODES + 1))
    ;;
  *)
    echo "TQ_TEST_STORE=$TQ_TEST_STORE: expected sqlite, postgres or mixed" >&2
    return 1
    ;;
  esac
  if ((pg)); then
    if [[ -z ${TQ_TEST_PG_DIR:-} ]]; then
      echo "TQ_TEST_STORE=$TQ_TEST_STORE needs a running cluster in TQ_TEST_PG_DIR (scripts/pg.sh start DIR)" >&2
      return 1
    fi
    uri=$("$TQ__PG_SH" createdb "$TQ_TEST_PG_DIR") || return 1
  fi
  "$@" ${uri:+--store "$uri"}
}

# tq_store_sql HOME SQL [PG_SQL]: run SQL on the store of the node in HOME: sqlite3 on
# HOME/store.db, or psql on the PostgreSQL database its tansiq.conf names (with PG_SQL instead
# when given, for what the two dialects spell differently). Rows on stdout, columns split by |.
tq_store_sql() {
  local home=$1 sql=$2 uri
  uri=$(sed -n 's/^store[[:space:]]*=[[:space:]]*//p' "$home/tansiq.conf" 2>/dev/null | tail -1)
  case $uri in
  postgres://* | postgresql://*)
    "${TQ_PG_BIN:-/usr/lib/postgresql/15/bin}/psql" -X -q -At -v ON_ERROR_STOP=1 "$uri" -c "${3:-$sql}"
    ;;
  *) sqlite3 "$home/store.db" "$sql" ;;
  esac
}
