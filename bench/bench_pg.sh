#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/bench_pg.sh BUILD_DIR - the store on PostgreSQL next to the same work on SQLite, every
# PostgreSQL figure with its SQLite reference measured in this run.
#
# A throwaway PostgreSQL 15 cluster (scripts/pg.sh, Unix socket in the bench's temporary
# directory, stopped at exit) holds one node; a SQLite home holds the other. On each:
#
#   import     `tansiq import` of one bundle of 10,000 ATT&CK ICS objects (BENCH_PG_IMPORT;
#              bench_bundle in common.sh) into 'shared', wall time of the command.
#   GET        wrk on GET /api/collections/shared/objects/?limit=100 (those 10,000 objects),
#              plain HTTP on loopback: one serve process, wrk -t2 -c64; two serve processes on
#              the same store, wrk -t1 -c32 against each at once, their rates summed. Each of the
#              four cases runs twice for half of BENCH_SECONDS (10) and keeps its better run.
#   latency    the first page (limit=100) of 'big', 1,000,000 objects, next to that of 'small',
#              1,000, and a page from the middle of 'big' (added_after its 500,000th object):
#              200 requests of each (BENCH_PG_REQUESTS), one of each in turn on one connection,
#              after 20 of each to warm up; median and p95 of curl's time_total.
#
# Loading 1,000,000 objects (BENCH_PG_BIG, a multiple of 1,000): the import rate measured above puts 1,000,000 objects through
# `tansiq import` at minutes on PostgreSQL (the figure is printed), too long for `make bench`.
# So 'small' and 'big' both get the same 1,000 objects through `tansiq import`, and 'big' then
# gets 999,000 more rows inserted with each database's own client (sqlite3, psql), in parallel:
# copies of its 1,000 rows with new ids (type--00000000-0000-4000-8000-<counter>, also written
# into the JSON), each with is_first = is_last = 1 and the next date_added, and the
# collection's last_date_added moved past them, as the store would have written them. They get
# no facts rows (a version without facts reads as local, which the bench user is) and no audit
# leaves (reads by local users do not touch the log). The first page of 'big' is therefore the
# same 100 objects as that of 'small', and the middle page 100 copies of them with ids of the
# same length: the same bytes to send, so the ratios measure the store alone. The SQLite load
# runs with journal_mode = DELETE and synchronous = OFF (WAL is set back after), the PostgreSQL
# one in one transaction followed by VACUUM ANALYZE, which autovacuum would otherwise run in the
# middle of the measurements. Every process it starts is stopped by PID, the cluster by pg.sh.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh" "${1:-build}"

PGBIN=${TQ_PG_BIN:-/usr/lib/postgresql/15/bin}
IMPORT_N=${BENCH_PG_IMPORT:-10000}
SEED_N=1000
BIG_N=${BENCH_PG_BIG:-1000000} # a multiple of 1,000
REQUESTS=${BENCH_PG_REQUESTS:-200}
PAGE="/api/collections/shared/objects/?limit=100"

skip() {
  echo "bench_pg: skipped, $*"
  exit 0
}
fail() {
  echo "bench_pg: $*"
  exit 1
}
((BIG_N > SEED_N && BIG_N % SEED_N == 0)) || fail "BENCH_PG_BIG=$BIG_N is not a multiple of $SEED_N above it"
for tool in wrk curl python3 sqlite3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[[ -x $PGBIN/postgres && -x $PGBIN/psql ]] ||
  skip "no PostgreSQL 15 in $PGBIN (scripts/install-deps.sh, or set TQ_PG_BIN)"
[[ -f $BUNDLE ]] || skip "no ATT&CK bundle at $BUNDLE (set TANSIQ_TESTDATA)"

# ---- the two nodes ------------------------------------------------------------------------
PG=$WORK/pg
SQ=$WORK/sqlite
PH=$WORK/postgresql
# shellcheck disable=SC2317 # run by bench_cleanup, through exit_hooks
stop_cluster() { "$ROOT/scripts/pg.sh" stop "$PG" >/dev/null 2>&1; }
exit_hooks+=(stop_cluster)
# Run as root, pg.sh runs the server as user postgres, which must be able to enter $WORK/pg.
chmod 711 "$WORK"
"$ROOT/scripts/pg.sh" start "$PG" >/dev/null 2>"$WORK/pg.err" ||
  fail "PostgreSQL did not start: $(tail -3 "$WORK/pg.err")"
URI=$("$ROOT/scripts/pg.sh" createdb "$PG" bench)
PSQL=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$URI")

if ! "$TANSIQ" init --home "$PH" --store "$URI" >/dev/null 2>"$WORK/init.err"; then
  grep -q "not built in" "$WORK/init.err" && skip "this build has no PostgreSQL driver (TQ_HAVE_POSTGRES=0)"
  fail "init on PostgreSQL failed: $(tail -1 "$WORK/init.err")"
fi
bench_user "$PH"
bench_home bench_pg "$SQ"
for h in "$SQ" "$PH"; do
  for c in small big; do
    "$TANSIQ" collection add "$c" --alias "$c" --home "$h" >/dev/null 2>&1 ||
      fail "collection add $c failed"
    "$TANSIQ" user grant bench "$c" --read --home "$h" >/dev/null 2>&1
  done
done

echo "bench_pg: $("$PGBIN/postgres" --version | sed 's/^postgres (PostgreSQL) /PostgreSQL /') (throwaway cluster, Unix socket, fsync and synchronous_commit on) next to SQLite $(sqlite3 --version | cut -d' ' -f1) (WAL, synchronous = FULL); $(nproc) cores, shared by wrk, the serve processes and PostgreSQL"

# ---- 1. import ----------------------------------------------------------------------------
bench_bundle "$IMPORT_N" "$WORK/import.json"
bench_bundle "$SEED_N" "$WORK/seed.json"

# import_secs HOME COLLECTION FILE: run tansiq import, print its wall time in seconds.
import_secs() {
  local t0 t1
  t0=$(date +%s%N)
  "$TANSIQ" import --home "$1" --collection "$2" "$3" >"$WORK/import.out" 2>&1 ||
    fail "import into $2 failed: $(tail -1 "$WORK/import.out")"
  t1=$(date +%s%N)
  awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e9 }'
}
sq_s=$(import_secs "$SQ" shared "$WORK/import.json")
pg_s=$(import_secs "$PH" shared "$WORK/import.json")
sq_rate=$(awk -v n="$IMPORT_N" -v s="$sq_s" 'BEGIN { printf "%d", n / s }')
pg_rate=$(awk -v n="$IMPORT_N" -v s="$pg_s" 'BEGIN { printf "%d", n / s }')
echo "import $IMPORT_N objects (tansiq import, wall time): postgresql $pg_rate objects/s ($pg_s s); sqlite $sq_rate objects/s ($sq_s s); ratio $(bench_ratio "$pg_rate" "$sq_rate")"

# ---- the 1,000 and the 1,000,000 ------------------------------------------------------------
for h in "$SQ" "$PH"; do
  for c in small big; do
    import_secs "$h" "$c" "$WORK/seed.json" >/dev/null
  done
done
COPIES=$(((BIG_N - SEED_N) / SEED_N))

cat >"$WORK/load_sqlite.sql" <<SQL
PRAGMA journal_mode = DELETE;
PRAGMA synchronous = OFF;
BEGIN IMMEDIATE;
CREATE TEMP TABLE seed AS
  SELECT row_number() OVER (ORDER BY date_added_us) - 1 AS k, id, version_us, type, spec_version, json
  FROM objects WHERE collection = (SELECT cid FROM collections WHERE alias = 'big');
WITH RECURSIVE copy(r) AS (SELECT 1 UNION ALL SELECT r + 1 FROM copy WHERE r < $COPIES)
INSERT INTO objects(collection, id, version_us, date_added_us, type, spec_version, is_first,
                    is_last, json)
SELECT cid, nid, version_us, last + (r - 1) * $SEED_N + k + 1, type, spec_version, 1, 1,
       replace(json, id, nid)
FROM (SELECT c.cid, c.last_date_added AS last, copy.r, s.*,
             s.type || '--00000000-0000-4000-8000-' || printf('%012x', copy.r * $SEED_N + s.k) AS nid
      FROM copy CROSS JOIN seed s
      CROSS JOIN (SELECT cid, last_date_added FROM collections WHERE alias = 'big') c);
UPDATE collections SET last_date_added = (SELECT max(date_added_us) FROM objects
                                          WHERE collection = collections.cid)
WHERE alias = 'big';
COMMIT;
PRAGMA journal_mode = WAL;
SQL

cat >"$WORK/load_postgres.sql" <<SQL
BEGIN;
CREATE TEMP TABLE seed AS
  SELECT row_number() OVER (ORDER BY date_added_us) - 1 AS k, id, version_us, type, spec_version, json
  FROM objects WHERE collection = (SELECT cid FROM collections WHERE alias = 'big');
INSERT INTO objects(collection, id, version_us, date_added_us, type, spec_version, is_first,
                    is_last, json)
SELECT cid, nid, version_us, last + (r - 1) * $SEED_N + k + 1, type, spec_version, true, true,
       replace(json, id, nid)
FROM (SELECT c.cid, c.last_date_added AS last, r, s.*,
             s.type || '--00000000-0000-4000-8000-' || lpad(to_hex(r * $SEED_N + s.k), 12, '0') AS nid
      FROM generate_series(1, $COPIES) r CROSS JOIN seed s
      CROSS JOIN (SELECT cid, last_date_added FROM collections WHERE alias = 'big') c) x;
UPDATE collections SET last_date_added = (SELECT max(date_added_us) FROM objects
                                          WHERE collection = collections.cid)
WHERE alias = 'big';
COMMIT;
VACUUM ANALYZE objects;
SQL

# Both loads at once, each client our own child (in pids[], so an interrupted bench stops it);
# each one's wall time is taken when it is seen gone (every 0.1 s).
t0=$(date +%s%N)
sqlite3 -bail "$SQ/store.db" <"$WORK/load_sqlite.sql" >/dev/null 2>"$WORK/load_sqlite.err" &
sq_load=$!
"${PSQL[@]}" -f "$WORK/load_postgres.sql" >/dev/null 2>"$WORK/load_postgres.err" &
pg_load=$!
pids+=("$sq_load" "$pg_load")
sq_load_s=
pg_load_s=
secs_since() { awk -v d=$(($(date +%s%N) - $1)) 'BEGIN { printf "%.1f", d / 1e9 }'; }
while [[ -z $sq_load_s || -z $pg_load_s ]]; do
  sleep 0.1
  [[ -n $sq_load_s ]] || kill -0 "$sq_load" 2>/dev/null || sq_load_s=$(secs_since "$t0")
  [[ -n $pg_load_s ]] || kill -0 "$pg_load" 2>/dev/null || pg_load_s=$(secs_since "$t0")
done
wait "$sq_load" || fail "bulk load on SQLite failed: $(tail -3 "$WORK/load_sqlite.err")"
wait "$pg_load" || fail "bulk load on PostgreSQL failed: $(tail -3 "$WORK/load_postgres.err")"
count_sql="SELECT count(*) FROM objects WHERE collection = (SELECT cid FROM collections WHERE alias = 'big')"
n_sq=$(sqlite3 "$SQ/store.db" "$count_sql")
n_pg=$("${PSQL[@]}" -c "$count_sql")
[[ $n_sq == "$BIG_N" && $n_pg == "$BIG_N" ]] ||
  fail "'big' holds $n_sq objects on SQLite and $n_pg on PostgreSQL, not $BIG_N"
echo "load $BIG_N objects: tansiq import would take ~$((BIG_N / (pg_rate > 0 ? pg_rate : 1))) s on postgresql and ~$((BIG_N / (sq_rate > 0 ? sq_rate : 1))) s on sqlite at the rates above, so $SEED_N go through tansiq import and $((BIG_N - SEED_N)) are bulk-inserted with SQL (both at once): postgresql $pg_load_s s, sqlite $sq_load_s s"

# The page from the middle of 'big': added_after the date_added of its 500,000th object.
middle_sql="SELECT date_added_us FROM objects WHERE collection = (SELECT cid FROM collections WHERE alias = 'big') ORDER BY date_added_us LIMIT 1 OFFSET $((BIG_N / 2 - 1))"
rfc3339() { printf '%s.%06dZ' "$(date -u -d "@$(($1 / 1000000))" +%Y-%m-%dT%H:%M:%S)" $(($1 % 1000000)); }
mid_sq=$(rfc3339 "$(sqlite3 "$SQ/store.db" "$middle_sql")")
mid_pg=$(rfc3339 "$("${PSQL[@]}" -c "$middle_sql")")

# ---- 2. TAXII GET pages per second ---------------------------------------------------------
S1=$(bench_serve "$SQ" --plain-http)
S2=$(bench_serve "$SQ" --plain-http)
P1=$(bench_serve "$PH" --plain-http)
P2=$(bench_serve "$PH" --plain-http)
[[ -n $S1 && -n $S2 && -n $P1 && -n $P2 ]] || fail "a serve process did not start"
for b in "$S1" "$S2" "$P1" "$P2"; do
  # the first request of a user runs Argon2 in each process; later ones hit its cache
  curl -sf -o /dev/null -H "$AUTH" -H "$ACCEPT" "$b$PAGE" || fail "cannot fetch $b$PAGE"
done

# Each case runs twice for half of BENCH_SECONDS, in the order A B C D then D C B A, and keeps
# its better run: a neighbour's burst on a shared machine then weighs on one run, not a figure.
HALF=$(((SECS + 1) / 2))
# two_wrk URL_A URL_B: wrk -t1 -c32 against both at once; prints "SUM P99_MAX ERRORS A B".
two_wrk() {
  local a_rps a_p99 a_err b_rps b_p99 b_err pid
  bench_wrk 1 32 "$HALF" "$2" >"$WORK/wrk.b" &
  pid=$!
  read -r a_rps a_p99 a_err < <(bench_wrk 1 32 "$HALF" "$1")
  wait "$pid"
  read -r b_rps b_p99 b_err <"$WORK/wrk.b"
  echo "$((a_rps + b_rps)) $(awk -v a="$a_p99" -v b="$b_p99" 'BEGIN { print (a > b ? a : b) }') $((a_err + b_err)) $a_rps $b_rps"
}
# get_case NAME: run case NAME once; its line ("REQ/S ...") replaces $WORK/get.NAME if better.
get_case() {
  local line cur=-1
  case $1 in
  one_sqlite) line=$(bench_wrk 2 64 "$HALF" "$S1$PAGE") ;;
  one_postgresql) line=$(bench_wrk 2 64 "$HALF" "$P1$PAGE") ;;
  two_sqlite) line=$(two_wrk "$S1$PAGE" "$S2$PAGE") ;;
  two_postgresql) line=$(two_wrk "$P1$PAGE" "$P2$PAGE") ;;
  esac
  [[ ! -f $WORK/get.$1 ]] || read -r cur _ <"$WORK/get.$1"
  if ((${line%% *} > cur)); then echo "$line" >"$WORK/get.$1"; fi
}
for c in one_sqlite one_postgresql two_sqlite two_postgresql; do get_case "$c"; done
for c in two_postgresql two_sqlite one_postgresql one_sqlite; do get_case "$c"; done
read -r s1_rps s1_p99 s1_err <"$WORK/get.one_sqlite"
read -r p1_rps p1_p99 p1_err <"$WORK/get.one_postgresql"
read -r s2_rps s2_p99 s2_err s2_a s2_b <"$WORK/get.two_sqlite"
read -r p2_rps p2_p99 p2_err p2_a p2_b <"$WORK/get.two_postgresql"
echo "taxii GET objects?limit=100 ($IMPORT_N objects), one serve process, wrk -t2 -c64, best of two ${HALF}s runs: postgresql $p1_rps req/s p99 $p1_p99 ms; sqlite $s1_rps req/s p99 $s1_p99 ms; ratio $(bench_ratio "$p1_rps" "$s1_rps")"
echo "taxii GET objects?limit=100, two serve processes on one store, wrk -t1 -c32 at each at once, summed, best of two ${HALF}s runs: postgresql $p2_rps req/s ($p2_a + $p2_b) p99 $p2_p99 ms; sqlite $s2_rps req/s ($s2_a + $s2_b) p99 $s2_p99 ms; ratio $(bench_ratio "$p2_rps" "$s2_rps"); two processes / one: postgresql $(bench_ratio "$p2_rps" "$p1_rps"), sqlite $(bench_ratio "$s2_rps" "$s1_rps") (CPU-bound: $(nproc) cores run both servers, both wrk and PostgreSQL, so a second process cannot add a core's worth here)"
errors=$((s1_err + p1_err + s2_err + p2_err))
[[ $errors == 0 ]] || echo "note: $errors errors or non-2xx answers under wrk"
[[ $s1_rps -gt 0 && $p1_rps -gt 0 && $s2_rps -gt 0 && $p2_rps -gt 0 ]] || fail "a GET run served nothing"

# ---- 3. first-page latency, 1,000,000 objects next to 1,000 ----------------------------------
# lat_stats FILE: "MEDIAN_MS P95_MS" of the times (s) in FILE.
lat_stats() {
  sort -g "$1" | awk '{ v[NR] = $1 * 1000 } END {
    m = int((NR + 1) / 2); p = int(NR * 0.95 + 0.999999)
    printf "%.2f %.2f", v[m], v[p] }'
}
# latency NAME BASE MIDDLE: GETs of the three pages in turn (first page of 'small', of 'big',
# the middle of 'big'), 20 of each to warm up then REQUESTS of each, all on one connection, so
# that the three series meet the same moments of a busy machine. Writes "SMALL_MED SMALL_P95
# BIG_MED BIG_P95 MID_MED MID_P95" to $WORK/NAME.stats and the page sizes to $WORK/NAME.bytes.
latency() {
  local urls=("$2/api/collections/small/objects/?limit=100"
    "$2/api/collections/big/objects/?limit=100"
    "$2/api/collections/big/objects/?limit=100&added_after=$3")
  local i u
  for ((i = 0; i < 20 + REQUESTS; i++)); do
    for u in "${urls[@]}"; do printf 'url = "%s"\noutput = /dev/null\n' "$u"; done
  done >"$WORK/curl.cfg"
  curl -s -H "$AUTH" -H "$ACCEPT" -K "$WORK/curl.cfg" \
    -w '%{http_code} %{time_total} %{size_download}\n' >"$WORK/$1.lat" || fail "curl failed on $2"
  awk '$1 != 200 { bad = 1 } END { exit bad }' "$WORK/$1.lat" || fail "non-200 answers from $2"
  for i in 0 1 2; do
    awk -v k="$i" 'NR > 60 && (NR - 1) % 3 == k { print $2 }' "$WORK/$1.lat" >"$WORK/$1.$i"
  done
  awk '{ print $3 }' "$WORK/$1.lat" | sort -u | paste -sd' ' >"$WORK/$1.bytes"
  echo "$(lat_stats "$WORK/$1.0") $(lat_stats "$WORK/$1.1") $(lat_stats "$WORK/$1.2")" >"$WORK/$1.stats"
}
latency sqlite "$S1" "$mid_sq"
latency postgresql "$P1" "$mid_pg"
read -r ss_m ss_p sb_m sb_p sm_m sm_p <"$WORK/sqlite.stats"
read -r ps_m ps_p pb_m pb_p pm_m pm_p <"$WORK/postgresql.stats"
# The three pages carry the same bytes (see the top), so the ratios compare the store alone.
sizes=$(cat "$WORK/sqlite.bytes" "$WORK/postgresql.bytes" | tr ' ' '\n' | sort -u | paste -sd' ')
[[ $sizes != *" "* ]] || echo "note: the pages differ in size: $sizes bytes"
echo "first page (limit=100, $sizes bytes), $REQUESTS requests each, interleaved on one connection: postgresql $BIG_N objects median $pb_m ms p95 $pb_p ms, $SEED_N objects median $ps_m ms p95 $ps_p ms, ratio big/small $(bench_ratio "$pb_m" "$ps_m"); sqlite $BIG_N objects median $sb_m ms p95 $sb_p ms, $SEED_N objects median $ss_m ms p95 $ss_p ms, ratio big/small $(bench_ratio "$sb_m" "$ss_m") (goal ~1.0: keyset pages stay flat)"
echo "page after object $((BIG_N / 2)) of $BIG_N (added_after), next to the first page of $SEED_N: postgresql median $pm_m ms p95 $pm_p ms, ratio $(bench_ratio "$pm_m" "$ps_m"); sqlite median $sm_m ms p95 $sm_p ms, ratio $(bench_ratio "$sm_m" "$ss_m"); postgresql/sqlite on the first page of $BIG_N: $(bench_ratio "$pb_m" "$sb_m")"
exit 0
