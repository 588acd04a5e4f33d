#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/web/run.sh BUILD - the dashboard in Chromium (bench.mjs), on a node holding 10,000 and
# one holding 1,000,000 incidents (bench/web/incidents.py, stored by `tansiq events import`):
# time from the login's submit to a drawn map against a cold load of a static page of the same
# assets, pan and zoom frame times against the same map emptied of its layers, and the bytes of
# JS and CSS transferred against the 300 KB goal.
#
# The stores are filled on tmpfs (/dev/shm) when there is one: SQLite's synchronous=FULL makes
# every commit wait for the disk, which turns minutes into most of an hour. The 1,000,000 home
# takes a few minutes even there, so it is filled once per commit of the build and kept in
# $BUILD/bench-web/home-1m-COMMIT (about 1.5 GB; homes of other commits are removed);
# BENCH_WEB_1M=0 skips it.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
TQ=$ROOT/$BUILD/tansiq
CHROMIUM=${TQ_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $CHROMIUM || ! -f node_modules/playwright-core/package.json ]] || ! command -v node >/dev/null; then
  echo "bench_web: skipped, needs node, node_modules/playwright-core and $CHROMIUM"
  exit 0
fi
TMPROOT=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && TMPROOT=/dev/shm
WORK=$(mktemp -d "$TMPROOT/tq-bench-web-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# fill HOME N: a node with the bench user and the demo boundaries, N incidents, in chunks of
# 100,000 rows (each file well under the importer's limits). Prints the seconds it took.
fill() {
  local home=$1 n=$2 t0=$SECONDS chunk
  "$TQ" init --home "$home" --title "bench node" >/dev/null 2>&1 || return 1
  echo demo-password | "$TQ" user add demo --password-stdin --read='*' --write='*' --home "$home" >/dev/null 2>&1 || return 1
  "$TQ" geo import demo/border-units.geojson --home "$home" >/dev/null 2>&1 || return 1
  python3 bench/web/incidents.py "$n" "$WORK/all.csv" || return 1
  tail -n +2 "$WORK/all.csv" | split -l 100000 - "$WORK/part-"
  for chunk in "$WORK"/part-*; do
    { echo "latitude,longitude,time,kind,name"; cat "$chunk"; } >"$chunk.csv"
    "$TQ" events import "$chunk.csv" --format csv --home "$home" >/dev/null 2>"$WORK/import.err" ||
      { tail -3 "$WORK/import.err"; return 1; }
    rm -f "$chunk" "$chunk.csv"
  done
  rm -f "$WORK/all.csv"
  echo $((SECONDS - t0))
}

# bench HOME LABEL: the server on the home, bench.mjs against it.
bench() {
  local home=$1 label=$2 out pid url=
  out=$WORK/serve.out
  "$TQ" serve --home "$home" --listen 127.0.0.1:0 >"$out" 2>"$WORK/serve.err" &
  pid=$!
  for _ in $(seq 1 200); do
    url=$(head -1 "$out" 2>/dev/null)
    [[ -n $url ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z $url ]]; then
    echo "bench_web: the server did not start on $label: $(tail -2 "$WORK/serve.err")"
    kill "$pid" 2>/dev/null
    return 1
  fi
  node bench/web/bench.mjs --url "${url%/taxii2/}" --label "$label"
  local rc=$?
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return $rc
}

status=0
secs=$(fill "$WORK/home-10k" 10000) || { echo "bench_web: filling 10,000 incidents failed"; exit 1; }
echo "store of 10,000 incidents filled in $secs s"
bench "$WORK/home-10k" "10,000 incidents" || status=1
rm -rf "$WORK/home-10k"

if [[ ${BENCH_WEB_1M:-1} != 0 ]]; then
  commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo none)
  cache=$ROOT/$BUILD/bench-web/home-1m-$commit
  if [[ ! -f $cache/tansiq.conf ]]; then
    mkdir -p "$ROOT/$BUILD/bench-web"
    find "$ROOT/$BUILD/bench-web" -mindepth 1 -maxdepth 1 -name 'home-1m-*' -exec rm -rf {} +
    if secs=$(fill "$WORK/home-1m" 1000000); then
      echo "store of 1,000,000 incidents filled in $secs s (kept in $cache)"
      cp -a "$WORK/home-1m" "$cache.tmp" && mv "$cache.tmp" "$cache"
      rm -rf "$WORK/home-1m"
    else
      echo "bench_web: filling 1,000,000 incidents failed"
      status=1
    fi
  else
    echo "store of 1,000,000 incidents: the one kept for this commit ($cache)"
  fi
  # two sign-ins, not five: each takes about a minute there today
  [[ -f $cache/tansiq.conf ]] && { BENCH_WEB_RUNS=${BENCH_WEB_RUNS:-2} bench "$cache" "1,000,000 incidents" || status=1; }
fi
exit $status
