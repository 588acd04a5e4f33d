# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# bench/common.sh - what the shell benchmarks share; sourced, never run. Usage at the top of a
# bench: `source "$(dirname "$0")/common.sh" "${1:-build}"`. Sets ROOT, BUILD (absolute),
# TANSIQ, TESTDATA, BUNDLE (the ATT&CK ICS bundle), SECS (BENCH_SECONDS, default 10), WORK
# (a temporary directory), AUTH and ACCEPT (the headers of a TAXII request by the bench user),
# defines the helpers below, and traps EXIT to stop every PID in pids[] (and those written to
# $WORK/server.pids by servers started in subshells), then run the functions named in
# exit_hooks[] (a bench's own clean-up, such as stopping its database server), and remove WORK;
# SIGINT and SIGTERM exit through that trap too.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$ROOT" && cd "${1:-build}" && pwd)
TANSIQ=$BUILD/tansiq
TESTDATA=${TANSIQ_TESTDATA:-$ROOT/../shared/data}
BUNDLE=$TESTDATA/attack/ics-attack-18.1.json
SECS=${BENCH_SECONDS:-10}
WORK=$(mktemp -d /tmp/tq-bench-XXXXXX)
pids=()
exit_hooks=()
AUTH="Authorization: Basic $(printf 'bench:bench-pw' | base64)"
ACCEPT="Accept: application/taxii+json;version=2.1"

bench_cleanup() {
  local p h
  set +e # a bench may run with -e: every step of the clean-up runs, whatever fails before it
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
  for h in "${exit_hooks[@]}"; do "$h"; done
  rm -rf "$WORK"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_home NAME [HOME [INIT ARG...]]: a home at HOME (default $WORK/home; H is set to it),
# made by `tansiq init` with the INIT ARGs (--store URI, ...), with the bench user (bench_user);
# NAME names the bench in the failure message.
bench_home() {
  local name=$1
  H=${2:-$WORK/home}
  shift $(($# < 2 ? $# : 2))
  if ! "$TANSIQ" init --home "$H" "$@" >/dev/null 2>"$WORK/init.err"; then
    echo "$name: init failed: $(tail -1 "$WORK/init.err")"
    exit 1
  fi
  bench_user "$H"
}

# bench_user HOME: user bench / bench-pw, reading and writing 'shared', on the node at HOME.
bench_user() {
  echo bench-pw | "$TANSIQ" user add bench --password-stdin --home "$1" >/dev/null 2>&1
  "$TANSIQ" user grant bench shared --read --write --home "$1" >/dev/null 2>&1
}

# bench_serve HOME [ARG...]: start `tansiq serve --home HOME --listen 127.0.0.1:0 ARG...` and
# print its base URL (without /taxii2/; empty when it did not start within 10 s). Meant for
# $(...): the PID goes to $WORK/server.pids, which the clean-up reads; the server's standard
# output and errors to $WORK/serve.PID.out and $WORK/serve.PID.err.
bench_serve() {
  local home=$1 out pid url=
  shift
  out=$(mktemp "$WORK/serve.XXXXXX")
  "$TANSIQ" serve --home "$home" --listen 127.0.0.1:0 "$@" >"$out" 2>"$out.err" &
  pid=$!
  echo "$pid" >>"$WORK/server.pids"
  for _ in $(seq 1 100); do
    url=$(head -1 "$out" 2>/dev/null)
    [[ -n $url ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  mv "$out" "$WORK/serve.$pid.out"
  mv "$out.err" "$WORK/serve.$pid.err"
  echo "${url%/taxii2/}"
}

# bench_wrk THREADS CONNS SECS URL [WRK ARG...]: wrk with the bench user's AUTH and ACCEPT;
# prints "REQ/S P99_MS ERRORS" (errors: socket errors plus non-2xx answers).
bench_wrk() {
  local t=$1 c=$2 s=$3 url=$4 out rps p99 errs non2xx
  shift 4
  out=$(wrk -t"$t" -c"$c" -d"${s}s" --timeout 10s --latency -H "$AUTH" -H "$ACCEPT" "$@" "$url" 2>&1)
  rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.1f", v}' <<<"$out")
  errs=$(awk '/Socket errors/ {gsub(/,/,""); print $4+$6+$8+$10}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "${rps:-0} ${p99:-0} $((${errs:-0} + ${non2xx:-0}))"
}

# bench_ratio A B: A / B with two decimals ("0" when B is not positive).
bench_ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }'
}

# bench_bundle N OUT: a STIX bundle of N objects made from the ATT&CK ICS bundle, written to
# OUT: its marking-definitions once, under their own ids (the objects reference them), then its
# other objects in turn, each copy with a fresh UUID in its id, until there are N.
bench_bundle() {
  python3 - "$BUNDLE" "$1" "$2" <<'PY'
import json, sys, uuid
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
objs = json.load(open(src, encoding="utf-8"))["objects"]
res = [o for o in objs if o["type"] == "marking-definition"][:n]
rest = [o for o in objs if o["type"] != "marking-definition"]
for i in range(n - len(res)):
    o = dict(rest[i % len(rest)])
    o["id"] = "%s--%s" % (o["type"], uuid.uuid4())
    res.append(o)
with open(out, "w", encoding="utf-8") as f:
    json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": res}, f,
              separators=(",", ":"), ensure_ascii=False)
PY
}
