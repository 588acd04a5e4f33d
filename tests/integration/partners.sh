#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/partners.sh TANSIQ WORKDIR - two real nodes set up a bilateral exchange
# over mutual TLS on loopback, and a third node's certificate tries to get in.
#
# Baghdad (A), Damascus (B) and a stranger (C) each run `tansiq init`. The officers exchange
# what `tansiq identity` prints, A registers B with `partner add` (B's certificate and public
# key), grants it one collection and agrees a default audience for it; then curl, holding B's
# client certificate, checks that B sees only the granted collection and in it only the 2 of
# 10 objects released to it (8 are TLP:RED), pages them one by one, cannot tell a withheld
# object from a missing one, cannot write, and that C's certificate, and no certificate at
# all, are refused with C's attempt in A's log. Then B registers A and pulls with `tansiq sync`,
# each node witnessing the other's audit log, and after A rewrites a leaf of its log B's next
# sync raises an alarm. Prints "ok NAME" / "FAIL NAME: why" lines for run.sh and ends with
# "partners: done".
set -uo pipefail
TANSIQ=$1
W=$2
# shellcheck source=tests/lib/store.sh
. "$(dirname "$0")/../lib/store.sh"
. "$(dirname "$0")/../serve.sh"
mkdir -p "$W"
A=$W/baghdad
B=$W/damascus
C=$W/stranger
TAXII='application/taxii+json;version=2.1'
srv_pid=

trap serve_stop EXIT

ok() { echo "ok   partners: $1"; }
bad() { echo "FAIL partners: $1${2:+: $2}"; }
q() { "$TANSIQ" "$@" >"$W/cmd.out" 2>"$W/cmd.err"; }

for h in "$A" "$B" "$C"; do
  tq_init q init --home "$h" 2>"$W/init.err" ||
    { bad "init" "$(cat "$W/init.err" "$W/cmd.err" 2>/dev/null)"; echo "partners: done"; exit 0; }
done

# ---- the officers exchange identities ------------------------------------------------------
"$TANSIQ" identity --home "$B" --json >"$W/b.id" 2>/dev/null
B_FP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cert_sha256"])' "$W/b.id")
"$TANSIQ" identity --home "$B" --pem >"$W/b.pem" 2>/dev/null
B_KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sign_pubkey"])' "$W/b.id")
OSSL_FP=$(openssl x509 -in "$B/tls/cert.pem" -noout -fingerprint -sha256 2>/dev/null |
  sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
if [[ -n $B_FP && $B_FP == "$OSSL_FP" ]]; then ok "identity fingerprint is openssl's"; else
  bad "identity fingerprint is openssl's" "$B_FP vs $OSSL_FP"; fi

if q partner add damascus --url https://127.0.0.1:9 --cert "$W/b.pem" --key "$B_KEY" --home "$A" &&
  grep -q "$B_FP" "$W/cmd.out"; then ok "partner add"; else bad "partner add" "$(cat "$W/cmd.err")"; fi
if q partner add bad --url https://127.0.0.1:9 --cert "$W/b.pem" --key "not-a-key" --home "$A"; then
  bad "partner add refuses a bad key"; else ok "partner add refuses a bad key"; fi
if q partner add Bad/Name --url https://x --cert "$W/b.pem" --key "$B_KEY" --home "$A"; then
  bad "partner add refuses a bad name"; else ok "partner add refuses a bad name"; fi
q partner list --json --home "$A"
if python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert [p["name"] for p in v] == ["damascus"] and v[0]["cert_sha256"] == sys.argv[2]' \
  "$W/cmd.out" "$B_FP" 2>/dev/null; then ok "partner list --json"; else bad "partner list --json" "$(cat "$W/cmd.out")"; fi

# ---- collections, a group, the agreed default, the grant ------------------------------------
q collection add "Border incidents" --alias border --home "$A"
q collection add "Internal" --alias internal --home "$A"
q group add iq-sy --home "$A" || bad "group add" "$(cat "$W/cmd.err")"
q group member iq-sy damascus --home "$A" || bad "group member" "$(cat "$W/cmd.err")"
if q group show iq-sy --json --home "$A" && grep -q '"damascus"' "$W/cmd.out"; then ok "group show";
else bad "group show" "$(cat "$W/cmd.out" "$W/cmd.err")"; fi
if q collection policy border --tlp green --audience group:iq-sy --home "$A"; then
  ok "collection policy"; else bad "collection policy" "$(cat "$W/cmd.err")"; fi
if q collection policy border --tlp green --audience 'friends' --home "$A"; then
  bad "collection policy refuses a bad audience"; else ok "collection policy refuses a bad audience"; fi
if q partner grant damascus border --home "$A"; then ok "partner grant"; else
  bad "partner grant" "$(cat "$W/cmd.err")"; fi

# 10 indicators: 2 unmarked (the default, TLP:GREEN to group:iq-sy, releases them), 8 TLP:RED.
python3 - "$W/objs.json" <<'EOF'
import json, sys, uuid
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
objs = []
for i in range(10):
    o = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + str(uuid.uuid4()),
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "name": "border %d" % i, "pattern": "[ipv4-addr:value = '10.0.0.%d']" % i,
         "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    if i not in (3, 7):
        o["object_marking_refs"] = [RED]
    objs.append(o)
json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objs}, open(sys.argv[1], "w"))
EOF
q import --collection border "$W/objs.json" --home "$A" || bad "import" "$(cat "$W/cmd.err")"
q import --collection internal "$W/objs.json" --home "$A"
RELEASED=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["objects"]; print(o[3]["id"], o[7]["id"])' "$W/objs.json")
WITHHELD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["objects"][0]["id"])' "$W/objs.json")
echo "analyst-pw" | "$TANSIQ" user add analyst --password-stdin --read=border --home "$A" >/dev/null 2>&1

if "$TANSIQ" explain "${RELEASED%% *}" --partner damascus --collection border --home "$A" >"$W/ex.out" 2>&1; then
  ok "explain: released (exit 0)"; else bad "explain: released (exit 0)" "$(cat "$W/ex.out")"; fi
"$TANSIQ" explain "$WITHHELD" --partner damascus --home "$A" >"$W/ex.out" 2>&1
rc=$?
if ((rc == 1)); then ok "explain: withheld (exit 1)"; else bad "explain: withheld (exit 1)" "exit $rc: $(cat "$W/ex.out")"; fi

# ---- A serves; B, C and nobody knock ---------------------------------------------------------
serve_start "$TANSIQ" "$A" "$W/serve"
if [[ -z $URL ]]; then bad "serve" "$(cat "$W/serve.err")"; echo "partners: done"; exit 0; fi
BASE=${URL%/taxii2/}
BORDER=$("$TANSIQ" collection list --home "$A" 2>/dev/null | awk '$2 == "border" {print $1}')
OBJS=$BASE/api/collections/$BORDER/objects/

# as HOME: curl with that node's certificate and key; "none" for no client certificate
get() {
  local who=$1 url=$2 out=$3
  shift 3
  local -a args=(-s -o "$out" -w '%{http_code}' -H "Accept: $TAXII" --cacert "$A/tls/cert.pem")
  [[ $who != none ]] && args+=(--cert "$who/tls/cert.pem" --key "$who/tls/key.pem")
  curl "${args[@]}" "$@" "$url"
}
jq_py() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); $1" "${@:2}" 2>/dev/null; }

code=$(get "$B" "$BASE/api/collections/" "$W/r1")
if [[ $code == 200 ]] && jq_py 'assert [c["alias"] for c in j["collections"]] == ["border"] and not j["collections"][0]["can_write"]' "$W/r1"; then
  ok "partner sees only the granted collection"; else bad "partner sees only the granted collection" "$code $(head -c 300 "$W/r1")"; fi

code=$(get "$B" "$OBJS" "$W/r2")
if [[ $code == 200 ]] && jq_py 'ids=sorted(o["id"] for o in j["objects"]); assert ids == sorted(sys.argv[2].split()), ids; assert j["more"] is False' "$W/r2" "$RELEASED"; then
  ok "partner sees only released objects (2 of 10)"; else bad "partner sees only released objects (2 of 10)" "$code $(head -c 300 "$W/r2")"; fi

code=$(get none "$OBJS" "$W/r3" -u analyst:analyst-pw)
if [[ $code == 200 ]] && jq_py 'assert len(j["objects"]) == 10' "$W/r3"; then ok "an analyst sees all 10"; else
  bad "an analyst sees all 10" "$code $(head -c 200 "$W/r3")"; fi
code=$(get "$B" "$OBJS" "$W/r3" -u analyst:analyst-pw)
if [[ $code == 200 ]] && jq_py 'assert len(j["objects"]) == 10' "$W/r3"; then
  ok "credentials win over a client certificate"; else bad "credentials win over a client certificate" "$code"; fi

# paging with limit=1: exactly the 2 released objects, more=false at the end
seen=0 pages=0 query="limit=1" last_more=
while ((pages < 12)); do
  code=$(get "$B" "$OBJS?$query" "$W/page" -D "$W/page.h")
  pages=$((pages + 1))
  [[ $code == 200 ]] || break
  n=$(jq_py 'print(len(j.get("objects", [])))' "$W/page")
  seen=$((seen + ${n:-0}))
  last_more=$(jq_py 'print(j.get("more"))' "$W/page")
  nxt=$(jq_py 'print(j.get("next", ""))' "$W/page")
  [[ $last_more == True && -n $nxt ]] || break
  query="limit=1&next=$nxt"
done
if ((seen == 2 && pages == 2)) && [[ $last_more == False ]]; then ok "paging limit=1 shows exactly 2, more=false"; else
  bad "paging limit=1 shows exactly 2, more=false" "seen=$seen pages=$pages more=$last_more"; fi
code=$(get "$B" "$BASE/api/collections/$BORDER/manifest/" "$W/man")
if [[ $code == 200 ]] && jq_py 'assert len(j["objects"]) == 2' "$W/man"; then ok "manifest counts only released"; else
  bad "manifest counts only released" "$code $(head -c 200 "$W/man")"; fi

# every response that gave the partner versions is one read leaf naming them by date_added (3:
# the full page of 2 and the 2 pages of one); asking for the checkpoint (more than a second
# after the last one) signs a fresh one, which writes the queued reads first. The manifest
# gives no content and is not logged.
sleep 1.1
curl -sk "$BASE/log/checkpoint" >/dev/null
if command -v sqlite3 >/dev/null; then
  nread=$(tq_store_sql "$A" "SELECT count(*) FROM audit_leaves WHERE kind = 'read' AND partner = 'damascus' AND record LIKE '{\"added\":[%],\"collection\":%'" 2>&1)
  if [[ $nread == 3 ]]; then ok "partner reads logged in the audit log (3 responses)"; else
    bad "partner reads logged in the audit log" "$nread"; fi
else
  bad "partner reads logged in the audit log" "sqlite3 is missing (scripts/install-deps.sh installs it)"
fi

# a withheld object answers exactly like a random id
code1=$(get "$B" "$OBJS$WITHHELD/" "$W/w1" -D "$W/w1.h")
code2=$(get "$B" "${OBJS}indicator--$(python3 -c 'import uuid; print(uuid.uuid4())')/" "$W/w2" -D "$W/w2.h")
strip() { tr -d '\r' <"$1" | grep -viE '^(date|content-length):'; }
if [[ $code1 == 404 && $code2 == 404 ]] && cmp -s "$W/w1" "$W/w2" && diff <(strip "$W/w1.h") <(strip "$W/w2.h") >/dev/null; then
  ok "withheld object-by-id is the same 404 as a random id"; else
  bad "withheld object-by-id is the same 404 as a random id" "$code1/$code2 $(cat "$W/w1") | $(cat "$W/w2")"; fi
code=$(get "$B" "$OBJS$WITHHELD/versions/" "$W/w3")
if [[ $code == 404 ]]; then ok "withheld versions 404"; else bad "withheld versions 404" "$code"; fi

code=$(get "$B" "$OBJS" "$W/p1" -X POST -H "Content-Type: $TAXII" --data-binary '{"objects":[]}')
if [[ $code == 403 ]]; then ok "partner POST 403"; else bad "partner POST 403" "$code"; fi
INTERNAL=$("$TANSIQ" collection list --home "$A" 2>/dev/null | awk '$2 == "internal" {print $1}')
code=$(get "$B" "$BASE/api/collections/$INTERNAL/objects/" "$W/p2")
if [[ $code == 404 ]]; then ok "ungranted collection 404"; else bad "ungranted collection 404" "$code"; fi
code=$(get "$B" "$OBJS${RELEASED%% *}/" "$W/p3" -X DELETE)
if [[ $code == 403 ]]; then ok "partner DELETE 403"; else bad "partner DELETE 403" "$code"; fi

# the stranger's certificate, and nobody
C_FP=$("$TANSIQ" identity --home "$C" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["cert_sha256"])')
code=$(get "$C" "$BASE/api/collections/" "$W/c1")
if [[ $code == 401 ]] && jq_py 'assert j["http_status"] == "401"' "$W/c1"; then ok "unknown certificate refused (401)"; else
  bad "unknown certificate refused (401)" "$code $(cat "$W/c1")"; fi
if grep -q "WARN.*sha256=$C_FP" "$W/serve.err"; then ok "refusal logged with the fingerprint"; else
  bad "refusal logged with the fingerprint" "$(grep WARN "$W/serve.err" | tail -2)"; fi
code=$(get none "$BASE/api/collections/" "$W/n1" -D "$W/n1.h")
if [[ $code == 401 ]] && grep -qi '^www-authenticate:' "$W/n1.h"; then ok "no certificate, no credentials: 401"; else
  bad "no certificate, no credentials: 401" "$code"; fi

# ---- witnessing: damascus pulls from baghdad with `tansiq sync` ----------------------------
# Each watches the other's audit log and cosigns it: damascus fetches baghdad's checkpoint and
# cosigns it as its witness, then asks baghdad (POST /log/add-checkpoint) to cosign its own.
"$TANSIQ" identity --home "$A" --pem >"$W/a.pem" 2>/dev/null
A_KEY=$("$TANSIQ" identity --home "$A" --json 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["sign_pubkey"])')
q partner add baghdad --url "$BASE" --cert "$W/a.pem" --key "$A_KEY" --home "$B" ||
  bad "partner add on damascus" "$(cat "$W/cmd.err")"
if "$TANSIQ" sync baghdad --json --home "$B" >"$W/sync.json" 2>"$W/sync.err" &&
  jq_py 'p = j["partners"][0]; w = p["witness"]
assert p["ok"] and w["alarms"] == 0, p
assert w["witnessed_size"] and w["witnessed_size"] > 0, w
assert w["cosigned_size"] is not None and not w["watch_warning"] and not w["ask_warning"], w' \
    "$W/sync.json"; then
  ok "sync witnesses both ways (damascus cosigned baghdad's log, baghdad damascus's)"
else
  bad "sync witnesses both ways" "$(head -c 600 "$W/sync.json") $(tail -3 "$W/sync.err")"
fi

# baghdad rewrites a leaf of its log and signs it afresh: damascus's next sync raises an alarm,
# pulls nothing and exits 1.
if command -v sqlite3 >/dev/null; then
  PORT=${BASE##*:}
  kill "$srv_pid" 2>/dev/null
  wait "$srv_pid" 2>/dev/null
  forget="DELETE FROM audit_checkpoints; DELETE FROM meta WHERE k = 'audit.checkpoint';"
  tq_store_sql "$A" "UPDATE audit_leaves SET leaf_hash = randomblob(32) WHERE idx = 1; $forget" \
    "UPDATE audit_leaves SET leaf_hash = sha256(random()::text::bytea) WHERE idx = 1; $forget" 2>"$W/sql.err" ||
    bad "rewrite a leaf" "$(cat "$W/sql.err")"
  : >"$W/serve.out"
  "$TANSIQ" serve --home "$A" --listen "127.0.0.1:$PORT" >"$W/serve.out" 2>"$W/serve.err" &
  srv_pid=$!
  for _ in $(seq 1 100); do
    [[ -s $W/serve.out ]] && break
    sleep 0.1
  done
  "$TANSIQ" sync baghdad --home "$B" >"$W/alarm.out" 2>"$W/alarm.err"
  rc=$?
  if ((rc == 1)) && grep -q 'ALARM:' "$W/alarm.err" && grep -q 'FAILED' "$W/alarm.out"; then
    ok "a rewritten log raises an ALARM on the next sync (exit 1)"
  else
    bad "a rewritten log raises an ALARM" "exit $rc: $(cat "$W/alarm.err" "$W/alarm.out" | head -c 400)"
  fi
else
  bad "alarm on a rewritten log" "sqlite3 is missing (scripts/install-deps.sh installs it)"
fi

# forgetting the partner locks it out
q partner remove damascus --home "$A" || bad "partner remove" "$(cat "$W/cmd.err")"
code=$(get "$B" "$OBJS" "$W/x1")
if [[ $code == 401 ]]; then ok "removed partner refused"; else bad "removed partner refused" "$code"; fi

if grep -qE 'BEGIN (EC )?PRIVATE KEY|analyst-pw' "$W/serve.err"; then bad "no secrets in the log"; else ok "no secrets in the log"; fi
serve_stop
if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$W/serve.err"; then
  bad "clean shutdown" "$(grep -A5 -E 'Sanitizer|runtime error:' "$W/serve.err" | head -10)"
else
  ok "clean shutdown"
fi
echo "partners: done"
