#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/run.sh BUILD_DIR - the TAXII server end to end, over HTTPS.
#
# Creates a temporary home with BUILD_DIR/tansiq, starts `tansiq serve` on a kernel-chosen
# port, then runs every case file in cases/ (one request each: method, path, headers, body,
# expected status, headers and JSON fragments), the scripted checks in extra.py (paging with
# cursors, forged cursors, truncated and oversized bodies, slow clients, many connections,
# ATT&CK round trip), the independent probe in ../shared/tools when the test data is there, and
# partners.sh: two more nodes exchanging over mutual TLS, and a stranger's certificate.
# auditlog.sh: the audit log served at /log/, checked with tools/tlogcheck.py.
# TQ_TEST_STORE=postgres puts every node's store on PostgreSQL (tests/lib/store.sh).
# Ends with "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../serve.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$ROOT" && cd "$BUILD" && pwd)
TANSIQ=$BUILD/tansiq
TESTDATA=${TANSIQ_TESTDATA:-$ROOT/../shared/data}
PROBE=${TAXII_PROBE:-$ROOT/../shared/tools/taxii_probe.py}
# shellcheck source=tests/lib/store.sh
. "$ROOT/tests/lib/store.sh"
passed=0
failed=0
skipped=0
srv_pid=
WORK=$(mktemp -d /tmp/tq-integ-XXXXXX)

cleanup() {
  serve_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }

if [[ ! -x $TANSIQ ]]; then
  echo "no $TANSIQ: build first (make)"
  echo "0 passed, 1 failed"
  exit 1
fi

# ---- a home with users, collections and a token ------------------------------------------
H=$WORK/home
if ! tq_init "$TANSIQ" init --home "$H" >"$WORK/init.out" 2>&1; then
  echo "init failed:"
  cat "$WORK/init.out"
  echo "0 passed, 1 failed"
  exit 1
fi
"$TANSIQ" collection add "Secret stuff" --alias secret --home "$H" >/dev/null 2>&1
"$TANSIQ" collection add "Probe" --alias probe --home "$H" >/dev/null 2>&1
"$TANSIQ" collection add "Roundtrip" --alias roundtrip --home "$H" >/dev/null 2>&1
"$TANSIQ" collection add "Readers only" --alias readonly --home "$H" >/dev/null 2>&1
for u in alice:alice-pw reader:reader-pw writer:writer-pw prober:prober-pw; do
  echo "${u#*:}" | "$TANSIQ" user add "${u%%:*}" --password-stdin --home "$H" >/dev/null 2>&1
done
grant() { "$TANSIQ" user grant "$@" --home "$H" >/dev/null 2>&1; }
grant alice shared --read --write
grant alice roundtrip --read --write
grant alice readonly --read
grant reader shared --read
grant writer shared --write
grant prober probe --read --write
TOKEN=$("$TANSIQ" user token alice --home "$H" 2>/dev/null | tail -1)
coll_id() { "$TANSIQ" collection list --home "$H" 2>/dev/null | awk -v a="$1" '$2 == a {print $1}'; }
COLL=$(coll_id shared)
SECRET=$(coll_id secret)
READONLY=$(coll_id readonly)

# ---- the server --------------------------------------------------------------------------
export TANSIQ_CONN_TIMEOUT_S=${TANSIQ_CONN_TIMEOUT_S:-3}
export TANSIQ_EVENTS_HEARTBEAT_S=${TANSIQ_EVENTS_HEARTBEAT_S:-1} # extra.py reads two heartbeats
serve_start "$TANSIQ" "$H" "$WORK/serve"
if [[ -z $URL ]]; then
  echo "server did not start:"
  cat "$WORK/serve.err"
  echo "0 passed, 1 failed"
  exit 1
fi
BASE=${URL%/taxii2/}
echo "server at $BASE"

# ---- case files --------------------------------------------------------------------------
TAXII='application/taxii+json;version=2.1'

subst() {
  local s=$1
  s=${s//'${COLL}'/$COLL}
  s=${s//'${SECRET}'/$SECRET}
  s=${s//'${READONLY}'/$READONLY}
  s=${s//'${BASE}'/$BASE}
  printf '%s' "$s"
}

run_case() {
  local file=$1 name method=GET path=/ auth=alice status=200 body= has_body=0
  local -a headers=() expect=() reject=() want_headers=()
  local accept_set=0 ctype_set=0 line key rest
  name=$(basename "$file" .case)
  while IFS= read -r line || [[ -n $line ]]; do
    [[ -z $line || $line == \#* ]] && continue
    key=${line%% *}
    rest=$(subst "${line#* }")
    case $key in
    METHOD) method=$rest ;;
    PATH) path=$rest ;;
    AUTH) auth=$rest ;;
    HEADER)
      headers+=(-H "$rest")
      [[ ${rest,,} == accept:* ]] && accept_set=1
      [[ ${rest,,} == content-type:* ]] && ctype_set=1
      ;;
    BODY) body+=$rest; has_body=1 ;;
    STATUS) status=$rest ;;
    EXPECT) expect+=("$rest") ;;
    REJECT) reject+=("$rest") ;;
    HAS_HEADER) want_headers+=("$rest") ;;
    *) bad "$name" "unknown key $key"; return ;;
    esac
  done <"$file"
  local -a args=(-skg -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$method")
  ((accept_set)) || args+=(-H "Accept: $TAXII")
  case $auth in
  none) ;;
  bad) args+=(-u "alice:wrong-password") ;;
  bearer) args+=(-H "Authorization: Bearer $TOKEN") ;;
  badbearer) args+=(-H "Authorization: Bearer tq_not-a-real-token") ;;
  *) args+=(-u "$auth:$auth-pw") ;;
  esac
  if ((has_body)); then
    printf '%s' "$body" >"$WORK/req"
    ((ctype_set)) || args+=(-H "Content-Type: $TAXII")
    args+=(--data-binary "@$WORK/req")
  fi
  local got
  got=$(curl "${args[@]}" "${headers[@]}" "$BASE$path")
  if [[ $got != "$status" ]]; then
    bad "$name" "status $got, expected $status: $(head -c 300 "$WORK/body")"
    return
  fi
  if ! grep -qi "^content-type: application/taxii+json;version=2.1" "$WORK/headers"; then
    bad "$name" "response Content-Type is not the TAXII media type"
    return
  fi
  if ((status >= 400)) && ! python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert isinstance(j.get("title"), str) and j.get("http_status") == sys.argv[2]
' "$WORK/body" "$status" 2>/dev/null; then
    bad "$name" "error body is not a TAXII error resource: $(head -c 300 "$WORK/body")"
    return
  fi
  local e h
  for e in "${expect[@]}"; do
    if ! grep -qF -- "$e" "$WORK/body"; then
      bad "$name" "body lacks $e: $(head -c 300 "$WORK/body")"
      return
    fi
  done
  for e in "${reject[@]}"; do
    if grep -qF -- "$e" "$WORK/body"; then
      bad "$name" "body has $e"
      return
    fi
  done
  for h in "${want_headers[@]}"; do
    if ! tr -d '\r' <"$WORK/headers" | grep -qiF -- "$h"; then
      bad "$name" "headers lack $h"
      return
    fi
  done
  ok "$name"
}

for c in "$HERE"/cases/*.case; do
  run_case "$c"
done

# ---- scripted checks ---------------------------------------------------------------------
if command -v python3 >/dev/null; then
  python3 "$HERE/extra.py" "$BASE" "$COLL" "$TESTDATA" "$(coll_id roundtrip)" >"$WORK/extra.out" 2>&1
  while IFS= read -r line; do
    case $line in
    "ok "*) passed=$((passed + 1)); echo "$line" ;;
    "FAIL "*) failed=$((failed + 1)); echo "$line" ;;
    "skip "*) skipped=$((skipped + 1)); echo "$line" ;;
    *) echo "  $line" ;;
    esac
  done <"$WORK/extra.out"
  grep -q "^extra: done" "$WORK/extra.out" || bad "extra.py" "did not finish"

  BUNDLE=$TESTDATA/attack/ics-attack-18.1.json
  if [[ -f $PROBE && -f $BUNDLE ]]; then
    if out=$(python3 "$PROBE" "$BASE" prober prober-pw "$BUNDLE" 2>&1); then
      ok "taxii_probe ($out)"
    else
      bad "taxii_probe" "$out"
    fi
  else
    skipped=$((skipped + 1))
    echo "skip taxii_probe: no probe or no ATT&CK bundle under $TESTDATA"
  fi
else
  skipped=$((skipped + 1))
  echo "skip extra.py and taxii_probe: no python3"
fi

# strict.py: framing refused with 400; slowclients.py: slow and idle clients past the connection limit (own servers).
command -v python3 >/dev/null && while IFS= read -r line; do case $line in "ok "*) passed=$((passed + 1)); echo "$line" ;; "FAIL "*) failed=$((failed + 1)); echo "$line" ;; *) echo "  $line" ;; esac; done < <(python3 "$HERE/strict.py" "$BASE" "$COLL" 2>&1 || echo "FAIL strict.py exited"; python3 "$HERE/slowclients.py" "$TANSIQ" "$WORK/slowclients" 2>&1 || echo "FAIL slowclients.py exited")

# ---- partner nodes over mutual TLS: three more homes, their own server ---------------------
if command -v python3 >/dev/null && command -v openssl >/dev/null; then
  "$HERE/partners.sh" "$TANSIQ" "$WORK/partners" >"$WORK/partners.out" 2>&1
  while IFS= read -r line; do
    case $line in
    "ok "*) passed=$((passed + 1)); echo "$line" ;;
    "FAIL "*) failed=$((failed + 1)); echo "$line" ;;
    *) ;;
    esac
  done <"$WORK/partners.out"
  grep -q "^partners: done" "$WORK/partners.out" || bad "partners.sh" "did not finish"
else
  skipped=$((skipped + 1))
  echo "skip partners.sh: needs python3 and openssl"
fi

# ---- the audit log as C2SP tlog-tiles, checked by an independent client -------------------
if command -v python3 >/dev/null && python3 -c 'import cryptography' 2>/dev/null; then
  "$HERE/auditlog.sh" "$TANSIQ" "$H" "$BASE" "$WORK/auditlog" >"$WORK/auditlog.out" 2>&1
  while IFS= read -r line; do
    case $line in
    "ok "*) passed=$((passed + 1)); echo "$line" ;;
    "FAIL "*) failed=$((failed + 1)); echo "$line" ;;
    "skip "*) skipped=$((skipped + 1)); echo "$line" ;;
    *) ;;
    esac
  done <"$WORK/auditlog.out"
  grep -q "^auditlog: done" "$WORK/auditlog.out" || bad "auditlog.sh" "did not finish"
else
  skipped=$((skipped + 1))
  echo "skip auditlog.sh: needs python3 with cryptography"
fi

# logprocs.sh: /log/ of a server while other processes (import, log checkpoint, sync) write its home.
command -v python3 >/dev/null && while IFS= read -r line; do case $line in "ok "*) passed=$((passed + 1)); echo "$line" ;; "FAIL "*) failed=$((failed + 1)); echo "$line" ;; esac; done < <("$HERE/logprocs.sh" "$TANSIQ" "$WORK/logprocs" 2>&1)

# The server must still be alive and must not have logged a credential.
if kill -0 "$srv_pid" 2>/dev/null; then ok "server survived"; else bad "server survived" "it exited"; fi
if grep -qE 'alice-pw|reader-pw|prober-pw|'"${TOKEN:-no-token}" "$WORK/serve.err"; then
  bad "no credentials in the log"
else
  ok "no credentials in the log"
fi

# A clean stop; under the sanitizers the log then holds any leak or error report.
serve_stop
if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$WORK/serve.err"; then
  bad "clean shutdown" "sanitizer report in the server log:"
  grep -A20 -E 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$WORK/serve.err" | head -40
else
  ok "clean shutdown"
fi

((skipped)) && echo "$skipped skipped"
echo "$passed passed, $failed failed"
((failed == 0))
