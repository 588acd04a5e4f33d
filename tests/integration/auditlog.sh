#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/auditlog.sh TANSIQ HOME BASE_URL WORK - the audit log of a live node as C2SP
# tlog-tiles, checked by the independent tools/tlogcheck.py (RFC 9162 hashing, Ed25519 signed
# notes) with the verifier key that `tansiq identity` and `tansiq log show` print: before and
# after more imports, the second time with --old on the first checkpoint. Also the HTTP
# contract: no authentication, media types, cache headers, 404 beyond the checkpoint, 405 for
# writes, and the statuses of the witness endpoint POST /log/add-checkpoint. Prints "ok ..." / "FAIL ..." lines and "auditlog: done".
set -uo pipefail
TANSIQ=$1
H=$2
BASE=$3
WORK=$4
HERE=$(cd "$(dirname "$0")" && pwd)
TLOGCHECK=${TLOGCHECK:-$HERE/../../../shared/tools/tlogcheck.py}
mkdir -p "$WORK"

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1${2:+: $2}"; }

VKEY=$("$TANSIQ" identity --home "$H" 2>/dev/null | awk '$1 == "log" && $2 == "vkey" {print $3}')
SHOW_VKEY=$("$TANSIQ" log show --json --home "$H" 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["vkey"])' 2>/dev/null)
if [[ -n $VKEY && $VKEY == "$SHOW_VKEY" && $VKEY == tansiq/* ]]; then
  ok "log vkey printed by identity and log show ($VKEY)"
else
  bad "log vkey" "identity gave '$VKEY', log show gave '$SHOW_VKEY'"
fi

# Headers of one GET, without any credentials.
fetch() { curl -sk -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }
header_has() { tr -d '\r' <"$WORK/headers" | grep -qi -- "$1"; }

code=$(fetch "$BASE/log/checkpoint")
if [[ $code == 200 ]] && header_has '^content-type: text/plain; charset=utf-8' &&
  [[ $(head -1 "$WORK/body") == "${VKEY%%+*}" ]]; then
  ok "GET /log/checkpoint without authentication"
else
  bad "GET /log/checkpoint" "status $code: $(head -c 200 "$WORK/body")"
fi
cp "$WORK/body" "$WORK/old.checkpoint"
SIZE1=$(sed -n 2p "$WORK/old.checkpoint")

if [[ ! -f $TLOGCHECK ]]; then
  echo "skip tlogcheck: no $TLOGCHECK"
elif out=$(python3 "$TLOGCHECK" "$BASE/log/" "$VKEY" 2>&1); then
  ok "tlogcheck at size $SIZE1 ($out)"
else
  bad "tlogcheck at size $SIZE1" "$out"
fi

# ---- more leaves: 300 new versions, so that level 0 gets a full tile -----------------------
python3 - "$WORK/more.json" <<'EOF'
import json, sys, uuid
objs = []
for i in range(300):
    objs.append({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--" + str(uuid.uuid4()),
        "created": "2024-01-02T03:04:05.000Z", "modified": "2024-01-02T03:04:05.000Z",
        "name": "audit %d" % i, "pattern": "[ipv4-addr:value = '10.9.%d.%d']" % (i // 250, i % 250),
        "pattern_type": "stix", "valid_from": "2024-01-02T03:04:05Z",
        "indicator_types": ["malicious-activity"],
    })
json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objs},
          open(sys.argv[1], "w"))
EOF
if "$TANSIQ" import --home "$H" --collection shared "$WORK/more.json" >"$WORK/import.out" 2>&1; then
  ok "import 300 more objects"
else
  bad "import 300 more objects" "$(tail -3 "$WORK/import.out")"
fi
sleep 1.2 # a fresh checkpoint is signed at most once a second
code=$(fetch "$BASE/log/checkpoint")
SIZE2=$(sed -n 2p "$WORK/body")
if [[ $code == 200 && -n $SIZE2 && -n $SIZE1 ]] && ((SIZE2 >= SIZE1 + 300)); then
  ok "checkpoint grew from $SIZE1 to $SIZE2"
else
  bad "checkpoint grew" "from '$SIZE1' to '$SIZE2' (status $code)"
fi
if [[ -f $TLOGCHECK ]]; then
  if out=$(python3 "$TLOGCHECK" "$BASE/log/" "$VKEY" --old "$WORK/old.checkpoint" 2>&1); then
    ok "tlogcheck at size $SIZE2 with --old ($out)"
  else
    bad "tlogcheck with --old" "$out"
  fi
fi

# ---- the tiles' HTTP contract ------------------------------------------------------------
code=$(fetch "$BASE/log/tile/0/000")
if [[ $code == 200 ]] && header_has '^content-type: application/octet-stream' &&
  header_has '^cache-control: max-age=31536000, immutable' &&
  [[ $(stat -c %s "$WORK/body") == 8192 ]]; then
  ok "full hash tile: 8192 bytes, immutable"
else
  bad "full hash tile" "status $code"
fi
code=$(fetch "$BASE/log/tile/entries/000")
if [[ $code == 200 && $(stat -c %s "$WORK/body") == $((256 * 34)) ]]; then
  ok "full entry bundle: 256 entries of 2 + 32 bytes"
else
  bad "full entry bundle" "status $code"
fi
code=$(fetch "$BASE/log/tile/0/x001/000")
if [[ $code == 404 ]]; then ok "tile beyond the checkpoint: 404"; else bad "tile beyond" "status $code"; fi
code=$(fetch "$BASE/log/tile/0/0")
if [[ $code == 404 ]]; then ok "non-canonical tile path: 404"; else bad "non-canonical" "status $code"; fi
code=$(fetch -X POST --data-binary x "$BASE/log/checkpoint")
if [[ $code == 405 ]] && header_has '^allow: GET, HEAD'; then
  ok "POST to the log: 405"
else
  bad "POST to the log" "status $code"
fi

# `tansiq log checkpoint` signs one now; `log show` reports it.
if "$TANSIQ" log checkpoint --home "$H" >"$WORK/cp.out" 2>&1 &&
  [[ $(head -1 "$WORK/cp.out") == "${VKEY%%+*}" ]] &&
  "$TANSIQ" log show --home "$H" 2>/dev/null | grep -q "^size  *$(sed -n 2p "$WORK/cp.out")\$"; then
  ok "tansiq log checkpoint and log show agree"
else
  bad "tansiq log checkpoint" "$(head -5 "$WORK/cp.out")"
fi

# ---- the witness endpoint (c2sp.org/tlog-witness) ----------------------------------------
code=$(fetch "$BASE/log/add-checkpoint")
if [[ $code == 405 ]] && header_has '^allow: POST'; then
  ok "GET add-checkpoint: 405, Allow: POST"
else
  bad "GET add-checkpoint" "status $code"
fi
code=$(fetch -X POST -H 'Content-Type: text/plain' --data-binary 'not a request' \
  "$BASE/log/add-checkpoint")
if [[ $code == 400 ]] && header_has '^content-type: text/plain'; then
  ok "add-checkpoint with a malformed body: 400"
else
  bad "add-checkpoint malformed" "status $code: $(head -c 200 "$WORK/body")"
fi
# This node's own checkpoint: well formed and signed, but its origin is no partner's log.
{ printf 'old 0\n\n'; cat "$WORK/cp.out"; } >"$WORK/own.req" 2>/dev/null
code=$(fetch -X POST -H 'Content-Type: text/plain' --data-binary @"$WORK/own.req" \
  "$BASE/log/add-checkpoint")
if [[ $code == 404 ]]; then
  ok "add-checkpoint for an origin that is no partner's: 404"
else
  bad "add-checkpoint unknown origin" "status $code: $(head -c 200 "$WORK/body")"
fi
head -c 70000 /dev/zero | tr '\0' a >"$WORK/big.req"
code=$(fetch -X POST -H 'Content-Type: text/plain' --data-binary @"$WORK/big.req" \
  "$BASE/log/add-checkpoint")
if [[ $code == 413 ]]; then
  ok "add-checkpoint over the body limit: 413"
else
  bad "add-checkpoint too big" "status $code"
fi

echo "auditlog: done"
