#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/bench_slowloris.sh BUILD_DIR - TAXII GET throughput and p99 while slow and idle clients
# hold more connections than the server's limit, next to the same run without them, over plain
# HTTP and over TLS.
#
# A temporary home is loaded with the ATT&CK ICS bundle (without it the api root is fetched
# instead of a page of 100 objects). `tansiq serve` runs with the default limits (1024
# connections, 256 per address), once with --plain-http and once with TLS. For each, wrk -t2
# -c64 from 127.0.0.1 measures GET for BENCH_SECONDS (default 10); then the same while
# 127.0.0.2 ... 127.0.0.6 each keep 256 connections open (1280 in all): half send a header byte
# every second (over TLS: after completing the handshake), half send nothing (over TLS: not even
# a ClientHello), each closed one is reopened at once. Prints both figures and their ratio.
# Every process it starts is stopped by PID.
set -uo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh" "${1:-build}"

for tool in wrk python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench_slowloris: skipped, $tool is not installed"
    exit 0
  fi
done
# 1280 attacking sockets in one process, 1024 connections in the server.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
if (($(ulimit -n) < 2048)); then
  echo "bench_slowloris: skipped, the open-file limit is $(ulimit -n)"
  exit 0
fi

bench_home bench_slowloris
PAGE=/api/
if [[ -f $BUNDLE ]] && "$TANSIQ" import --home "$H" --collection shared "$BUNDLE" >/dev/null 2>&1; then
  PAGE=/api/collections/shared/objects/?limit=100
fi

start_server() { # $1: extra args; sets BASE, PORT and SPID, the server's log in $WORK/serve$1.err
  local out=$WORK/serve$1.out url=
  # shellcheck disable=SC2086
  "$TANSIQ" serve --home "$H" --listen 127.0.0.1:0 $1 >"$out" 2>"$WORK/serve$1.err" &
  SPID=$!
  pids+=("$SPID")
  for _ in $(seq 1 100); do
    url=$(head -1 "$out" 2>/dev/null)
    [[ -n $url ]] && break
    sleep 0.1
  done
  [[ -n $url ]] || { echo "bench_slowloris: server did not start"; exit 1; }
  BASE=${url%/taxii2/}
  PORT=${BASE##*:}
}

run_wrk() { # prints "REQS P99MS ERRORS"
  bench_wrk 2 64 "$SECS" "$BASE$PAGE"
}

cat >"$WORK/attack.py" <<'EOF'
import selectors, socket, ssl, sys, time
port, per_addr, tls = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "tls"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
addrs = ["127.0.0.%d" % i for i in range(2, 7)]
sel = selectors.DefaultSelector()
slots = {}  # (addr, i) -> socket
opened = closed = 0

def fill():
    global opened
    for a in addrs:
        for i in range(per_addr):
            if (a, i) in slots:
                continue
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(a, 0))
                if i % 2 == 0:
                    if tls:
                        s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
                    s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                s.setblocking(False)
            except OSError:
                continue
            slots[(a, i)] = s
            sel.register(s, selectors.EVENT_READ, (a, i))
            opened += 1

def drop(key):
    global closed
    s = slots.pop(key)
    sel.unregister(s)
    s.close()
    closed += 1

while True:
    fill()
    until = time.time() + 1
    while time.time() < until:
        for k, _ in sel.select(timeout=max(0, until - time.time())):
            try:
                if k.fileobj.recv(4096) == b"":
                    drop(k.data)
            except ssl.SSLWantReadError:
                pass
            except OSError:
                drop(k.data)
    for key, s in list(slots.items()):
        if key[1] % 2 == 0:
            try:
                s.send(b"a")
            except OSError:
                drop(key)
    print(f"open {len(slots)} opened {opened} closed {closed}", flush=True)
EOF

# One protocol: $1 is "plain" or "tls". Prints the quiet and attacked figures and the ratio.
attack_run() {
  local proto=$1 q_rps q_p99 q_err a_rps a_p99 a_err apid ratio summaries warns
  if [[ $proto == plain ]]; then start_server --plain-http; else start_server ""; fi
  local log=$WORK/serve$([[ $proto == plain ]] && echo --plain-http).err
  # Warm-up: the first request of each user runs Argon2; later ones hit the credential cache.
  wrk -t2 -c64 -d2s -H "$AUTH" -H "$ACCEPT" "$BASE$PAGE" >/dev/null 2>&1
  read -r q_rps q_p99 q_err < <(run_wrk)
  python3 "$WORK/attack.py" "$PORT" 256 "$proto" >"$WORK/attack.$proto" 2>&1 &
  apid=$!
  pids+=("$apid")
  sleep 3
  read -r a_rps a_p99 a_err < <(run_wrk)
  kill "$apid" "$SPID" 2>/dev/null
  wait "$apid" "$SPID" 2>/dev/null
  ratio=$(awk -v a="$a_rps" -v b="$q_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }')
  summaries=$(grep -c "refused or closed" "$log")
  warns=$(grep -c " WARN " "$log")
  echo "  $proto quiet:        $q_rps req/s p99 $q_p99 ms errors $q_err"
  echo "  $proto under attack: $a_rps req/s p99 $a_p99 ms errors $a_err ($(tail -1 "$WORK/attack.$proto"))"
  echo "slowloris $proto: taxii GET $a_rps req/s p99 $a_p99 ms under 1280 slow/idle connections from 5 addresses, $q_rps req/s p99 $q_p99 ms without; ratio $ratio; server log: $warns WARN lines, $summaries of them summaries"
  ((a_rps > 0)) || { echo "bench_slowloris: no $proto request served under attack"; failed=1; }
}

echo "GET $PAGE, wrk -t2 -c64 ${SECS}s from 127.0.0.1, limits 1024 total / 256 per address"
failed=0
attack_run plain
attack_run tls
exit $failed
