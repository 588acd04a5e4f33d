#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/bench_taxii.sh BUILD_DIR - TAXII GET objects?limit=100 against nginx serving the same
# bytes as a static file.
#
# A temporary home is loaded with the ATT&CK ICS bundle; one page of 100 objects is fetched to
# a file that nginx (our own process, temporary config, loopback port) then serves. wrk drives
# both for BENCH_SECONDS (default 10) with 64 connections, plain HTTP, Basic auth on both
# (nginx ignores it), then runs short passes at 128 and 256 connections to show that no
# connection count stalls the server, and, when nginx has TLS, HTTPS at 64, 256 and 1,000
# connections next to nginx at each. Every process it starts is stopped by PID.
set -uo pipefail
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh" "${1:-build}"

for tool in wrk nginx curl; do
  if ! command -v "$tool" >/dev/null && [[ ! -x /usr/sbin/$tool ]]; then
    echo "bench_taxii: skipped, $tool is not installed"
    exit 0
  fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ ! -f $BUNDLE ]]; then
  echo "bench_taxii: skipped, no ATT&CK bundle at $BUNDLE (set TANSIQ_TESTDATA)"
  exit 0
fi

bench_home bench_taxii
"$TANSIQ" import --home "$H" --collection shared "$BUNDLE" >/dev/null 2>&1 ||
  { echo "bench_taxii: import failed"; exit 1; }

start_server() { # $1: extra args; prints the base URL
  # shellcheck disable=SC2086
  bench_serve "$H" $1
}

BASE=$(start_server --plain-http)
[[ -n $BASE ]] || { echo "bench_taxii: server did not start"; exit 1; }
PAGE=/api/collections/shared/objects/?limit=100
mkdir -p "$WORK/www" "$WORK/ngx"
# nginx workers may run as an unprivileged user: let them reach the page (the home stays 0700).
chmod 711 "$WORK"
chmod 755 "$WORK/www"
if ! curl -sf -H "$AUTH" -H "$ACCEPT" -o "$WORK/www/page.json" "$BASE$PAGE"; then
  echo "bench_taxii: cannot fetch the page"
  exit 1
fi
chmod 644 "$WORK/www/page.json"
BYTES=$(stat -c %s "$WORK/www/page.json")

# nginx on a free loopback port, with TLS too when the module is there.
CERT=$H/tls/cert.pem
KEY=$H/tls/key.pem
start_nginx() { # $1: port, $2: tls port or empty
  local tls=
  if [[ -n $2 ]]; then
    tls="server { listen 127.0.0.1:$2 ssl; ssl_certificate $CERT; ssl_certificate_key $KEY;
             ssl_protocols TLSv1.2 TLSv1.3; root $WORK/www; location / { default_type application/taxii+json; } }"
  fi
  cat >"$WORK/ngx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $WORK/ngx/nginx.pid;
error_log $WORK/ngx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $WORK/ngx; proxy_temp_path $WORK/ngx; fastcgi_temp_path $WORK/ngx;
  uwsgi_temp_path $WORK/ngx; scgi_temp_path $WORK/ngx;
  server { listen 127.0.0.1:$1; root $WORK/www; location / { default_type application/taxii+json; } }
  $tls
}
EOF
  "$NGINX" -c "$WORK/ngx/nginx.conf" -p "$WORK/ngx" 2>/dev/null &
  local pid=$!
  sleep 0.5
  if kill -0 "$pid" 2>/dev/null; then
    pids+=("$pid")
    return 0
  fi
  return 1
}
NPORT=
NTLS=
for _ in $(seq 1 20); do
  p=$((20000 + RANDOM % 30000))
  if start_nginx "$p" "$((p + 1))"; then
    NPORT=$p
    NTLS=$((p + 1))
    break
  fi
  if start_nginx "$p" ""; then
    NPORT=$p
    break
  fi
done
[[ -n $NPORT ]] || { echo "bench_taxii: nginx did not start"; exit 1; }
NGX=http://127.0.0.1:$NPORT/page.json
cmp -s <(curl -s "$NGX") "$WORK/www/page.json" || { echo "bench_taxii: nginx serves other bytes"; exit 1; }

run_wrk() { # $1 conns, $2 secs, $3 url, extra args...; prints "REQS P99MS ERRORS"
  bench_wrk 2 "$@"
}

echo "page: $BYTES bytes, 100 objects; wrk -t2, ${SECS}s, 64 connections, plain HTTP"
read -r t_rps t_p99 t_err < <(run_wrk 64 "$SECS" "$BASE$PAGE")
read -r n_rps n_p99 n_err < <(run_wrk 64 "$SECS" "$NGX")
ratio=$(awk -v a="$t_rps" -v b="$n_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }')

echo "stall check (3 s each): connections -> taxii req/s, errors"
stall=0
for c in 128 256; do
  read -r s_rps s_p99 s_err < <(run_wrk "$c" 3 "$BASE$PAGE")
  echo "  $c connections: $s_rps req/s p99 $s_p99 ms errors $s_err"
  ((s_rps > 0)) || stall=1
done

# HTTPS at 64, 256 and 1,000 connections, each next to nginx at the same count. wrk opens
# every connection from 127.0.0.1, so this server allows 1,024 per address; then one run at
# 1,000 against a server with the default per-address limit (256) shows what a single-address
# load generator measures there: the limit refusing 744 connections that wrk reopens at once.
if [[ -n $NTLS ]]; then
  WBASE=$(TANSIQ_MAX_CONNECTIONS_PER_IP=1024 start_server "")
  TBASE=$(start_server "")
  if [[ -n $WBASE && -n $TBASE ]]; then
    run_wrk 64 2 "$WBASE$PAGE" >/dev/null # warm-up: Argon2 once, then the credential cache
    for c in 64 256 1000; do
      read -r h_rps h_p99 h_err < <(run_wrk "$c" "$SECS" "$WBASE$PAGE")
      read -r hn_rps hn_p99 _ < <(run_wrk "$c" "$SECS" "https://127.0.0.1:$NTLS/page.json")
      hr=$(awk -v a="$h_rps" -v b="$hn_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }')
      echo "https $c connections: taxii $h_rps req/s p99 $h_p99 ms errors $h_err; nginx $hn_rps req/s p99 $hn_p99 ms; ratio $hr"
      ((h_rps > 0)) || stall=1
    done
    read -r d_rps d_p99 d_err < <(run_wrk 1000 "$SECS" "$TBASE$PAGE")
    echo "https 1000 connections from one address, default limit of 256 per address: $d_rps req/s p99 $d_p99 ms, $d_err refused or failed (the limit at work, not a collapse)"
  fi
else
  echo "https: skipped, this nginx has no TLS module"
fi

# gzip for clients that ask (slow links between centres): bytes on the wire, the time one page
# takes over a 2 Mbit/s link either way, and the server's rate when every client asks for it.
GZ=$(curl -s -H "$AUTH" -H "$ACCEPT" -H "Accept-Encoding: gzip" -o "$WORK/page.gz" \
  -w '%{size_download}' "$BASE$PAGE")
read -r g_rps g_p99 _ < <(run_wrk 64 "$SECS" "$BASE$PAGE" -H "Accept-Encoding: gzip")
awk -v p="$BYTES" -v g="$GZ" -v r="$g_rps" -v q="$g_p99" -v t="$t_rps" 'BEGIN {
  if (g <= 0) g = p
  printf "gzip: page %d -> %d bytes (%.1fx, %.0f%% saved); at 2 Mbit/s %.2f s -> %.2f s a page; ", p, g, p / g, 100 * (1 - g / p), p * 8 / 2e6, g * 8 / 2e6
  printf "server %d req/s p99 %s ms gzipped, ratio to identity %.2f\n", r, q, (t > 0 ? r / t : 0) }'

echo "taxii GET objects?limit=100: $t_rps req/s p99 $t_p99 ms; nginx static: $n_rps req/s p99 $n_p99 ms; ratio $ratio (goal >= 0.50)"
((t_err == 0)) || echo "note: $t_err errors or non-2xx answers from the taxii server"
((stall == 0)) || { echo "bench_taxii: the server stalled"; exit 1; }
exit 0
