#!/usr/bin/env bash
# CLI tests: drive the real `tansiq` binary through init, users, import, export, validate, the
# command table (every subcommand in its --help), partner onboarding from a signed bundle, the
# audit log's proofs (log proof, verify) and moving a node's store (store copy).
# Usage: tests/cli/run.sh BUILD_DIR. Ends with "N passed, N failed".
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
. tests/serve.sh
TQ=$PWD/$BUILD/tansiq
DATA=${TANSIQ_TESTDATA:-$(cd .. && pwd)/shared/data}
WORK=$(mktemp -d)
srv_pid=
trap 'serve_stop; rm -rf "$WORK"' EXIT
H=$WORK/home
passed=0
failed=0
skipped=0

check() { # check NAME COMMAND...: the command must succeed
  local name=$1
  shift
  if "$@" >"$WORK/out" 2>"$WORK/err"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    sed 's/^/  | /' "$WORK/out" "$WORK/err" | tail -20
  fi
}

status_is() { # status_is WANT COMMAND...: exit status must be WANT
  local want=$1
  shift
  "$@" >"$WORK/out" 2>"$WORK/err"
  [[ $? -eq $want ]]
}

check "help lists commands" bash -c "'$TQ' --help | grep -q validate"
for cmd in init serve import export validate user collection; do
  check "$cmd --help" bash -c "'$TQ' $cmd --help | grep -q usage"
done
check "unknown command is a usage error" status_is 2 "$TQ" frobnicate
check "open without init fails clearly" bash -c "'$TQ' collection list --home '$H' 2>&1 | grep -q 'tansiq init'"
check "init" "$TQ" init --home "$H" --title "test node"
check "init twice is refused" status_is 3 "$TQ" init --home "$H"
check "home is private" bash -c "[[ \$(stat -c %a '$H') == 700 && \$(stat -c %a '$H/tls/key.pem') == 600 && \$(stat -c %a '$H/identity.key') == 600 ]]"
check "certificate is valid x509" openssl x509 -in "$H/tls/cert.pem" -noout -checkend 86400
check "default collection" bash -c "'$TQ' collection list --home '$H' | grep -q shared"
check "node publishes its identity and the releasability extension" bash -c "'$TQ' export --home '$H' --collection node 2>/dev/null | python3 -c 'import json,sys; t=sorted(o[\"type\"] for o in json.load(sys.stdin)[\"objects\"]); assert t == [\"extension-definition\",\"identity\",\"identity\"], t'"
check "marking add prints the new marking's id" bash -c "'$TQ' marking add --release-to group:iq-sy,partner:amman --no-further-sharing --home '$H' | grep -qE '^marking-definition--[0-9a-f-]{36}$'"
check "marking add refuses a malformed audience" status_is 2 "$TQ" marking add --release-to everyone --home "$H"
check "identity names the STIX identity" bash -c "'$TQ' identity --home '$H' | grep -qE '^identity +identity--'"
check "collection add" "$TQ" collection add "Border incidents" --alias border --home "$H"
check "collection list json" bash -c "'$TQ' collection list --json --home '$H' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert {c[\"alias\"] for c in d} == {\"shared\",\"node\",\"border\"}'"
check "user add from stdin" bash -c "echo 'pw one two' | '$TQ' user add alice --password-stdin --read=shared --write=shared --home '$H'"
check "user add refuses empty password" status_is 2 bash -c "printf '\n' | '$TQ' user add bob --password-stdin --home '$H'"
check "user list" bash -c "'$TQ' user list --home '$H' | grep -qx alice"
check "token printed once" bash -c "'$TQ' user token alice --home '$H' | grep -qE '^tq_[A-Za-z0-9_-]{43}$'"
check "token for unknown user refused" status_is 3 "$TQ" user token nobody --home "$H"
check "password hash is not in the store as text" bash -c "! grep -q 'pw one two' '$H/store.db'"

# validate: a good object, a bad one, not JSON
cat >"$WORK/good.json" <<'J'
{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[
 {"type":"identity","spec_version":"2.1","id":"identity--311b2d2d-f010-4473-83ec-1edf84858f4c",
  "created":"2015-12-21T19:59:11.000Z","modified":"2015-12-21T19:59:11.000Z","name":"Cole Powers",
  "identity_class":"individual"}]}
J
cat >"$WORK/bad.json" <<'J'
[{"type":"identity","spec_version":"2.1","id":"identity--311b2d2d-f010-4473-83ec-1edf84858f4c",
  "created":"2016-12-21T19:59:11.000Z","modified":"2015-12-21T19:59:11.000Z","name":"Backwards"}]
J
printf '{"type": "bundle", ' >"$WORK/notjson.json"
check "validate good" "$TQ" validate "$WORK/good.json"
check "validate bad exits 1" status_is 1 "$TQ" validate "$WORK/bad.json"
check "validate names the property" bash -c "'$TQ' validate '$WORK/bad.json' 2>&1 | grep -q modified"
check "validate not JSON exits 1" status_is 1 "$TQ" validate "$WORK/notjson.json"
check "validate --json lists problems" bash -c "'$TQ' validate --json '$WORK/bad.json' | python3 -c 'import json,sys; p=json.load(sys.stdin); assert p and p[0][\"severity\"]==\"error\"'"

# import: counts, idempotence, rejected objects do not stop the good ones
check "import good" bash -c "'$TQ' import --home '$H' '$WORK/good.json' | grep -qx 'stored 1, already present 0, rejected 0'"
check "import again is idempotent" bash -c "'$TQ' import --home '$H' '$WORK/good.json' | grep -qx 'stored 0, already present 1, rejected 0'"
check "import bad exits 1" status_is 1 "$TQ" import --home "$H" "$WORK/bad.json"
check "import into unknown collection fails" status_is 3 "$TQ" import --home "$H" --collection nope "$WORK/good.json"
check "import from stdin --json" bash -c "'$TQ' import --home '$H' --collection border --json - < '$WORK/good.json' | grep -q '\"stored\":1'"

ATTACK=$DATA/attack/ics-attack-18.1.json
if [[ -f $ATTACK ]]; then
  check "import ATT&CK ICS" bash -c "'$TQ' import --home '$H' --collection border '$ATTACK' | grep -qx 'stored 1826, already present 0, rejected 0'"
  check "export ATT&CK round-trips" bash -c "'$TQ' export --home '$H' --collection border --out '$WORK/exp.json' && python3 - '$ATTACK' '$WORK/exp.json' <<'PY'
import json, sys
src = json.load(open(sys.argv[1]))['objects']
out = json.load(open(sys.argv[2]))
assert out['type'] == 'bundle'
key = lambda o: (o['id'], o.get('modified', o.get('created', '')))
got = {key(o): o for o in out['objects']}
missing = [k for k in map(key, src) if k not in got]
differ = [key(o) for o in src if key(o) in got and got[key(o)] != o]
assert not missing and not differ, (len(missing), len(differ))
PY"
else
  skipped=$((skipped + 2))
  echo "skip ATT&CK import/export: no $ATTACK"
fi

# proofs: a partner's node is registered, an object released to it; the proof written by
# `log proof` verifies offline with the key `log show` prints, and a tampered copy does not.
P=$WORK/partner-home
check "init a partner node" "$TQ" init --home "$P" --title "partner node"
"$TQ" identity --home "$P" --json >"$WORK/p.id" 2>/dev/null
"$TQ" identity --home "$P" --pem >"$WORK/p.pem" 2>/dev/null
PKEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sign_pubkey"])' "$WORK/p.id" 2>/dev/null)
check "partner add" "$TQ" partner add damascus --url https://127.0.0.1:9 --cert "$WORK/p.pem" --key "$PKEY" --home "$H"
check "partner grant border" "$TQ" partner grant damascus border --home "$H"
check "collection policy releases border to damascus" "$TQ" collection policy border --tlp green --audience partner:damascus --home "$H"
cat >"$WORK/proofobj.json" <<'J'
{"type":"bundle","id":"bundle--5b0e4b2e-9c53-4c8e-9d0a-1f0e6a3b8c11","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--7d3b6a52-3c1f-4e8e-9a77-2f1b0c9d4e55",
  "created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","name":"border crossing",
  "pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2026-01-02T00:00:00Z"}]}
J
PID=indicator--7d3b6a52-3c1f-4e8e-9a77-2f1b0c9d4e55
check "import an object released to damascus" "$TQ" import --home "$H" --collection border "$WORK/proofobj.json"
VKEY=$("$TQ" log show --json --home "$H" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["vkey"])' 2>/dev/null)
check "log show --json: vkey, wkey and no alarms" bash -c "'$TQ' log show --json --home '$H' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"vkey\"] and d[\"wkey\"].split(\"+\")[0] == d[\"origin\"] and d[\"alarms\"] == 0, d'"
check "log proof writes a file and a summary" bash -c "'$TQ' log proof $PID --partner damascus --collection border --out '$WORK/proof.tlog-proof' --home '$H' 2>&1 | grep -q '1 stored, 1 released'"
check "the proof is C2SP tlog-proof@v1" bash -c "head -1 '$WORK/proof.tlog-proof' | grep -qx 'c2sp.org/tlog-proof@v1'"
check "verify: exit 0" "$TQ" verify "$WORK/proof.tlog-proof" --key "$VKEY"
check "verify says what the proof shows" bash -c "'$TQ' verify '$WORK/proof.tlog-proof' --key '$VKEY' | grep -q \"$PID version 2026-01-02T03:04:05.000Z (sha256 [0-9a-f]*) was released to damascus\""
check "verify --json" bash -c "'$TQ' verify --json '$WORK/proof.tlog-proof' --key '$VKEY' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"verified\"] and {b[\"kind\"] for b in d[\"blocks\"]} == {\"stored\",\"released\"}, d'"
check "verify needs no node home" bash -c "cd '$WORK' && TANSIQ_HOME=/nonexistent '$TQ' verify proof.tlog-proof --key '$VKEY' >/dev/null"
python3 - "$WORK/proof.tlog-proof" "$WORK/tampered.tlog-proof" <<'PY'
import sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
i = next(k for k, l in enumerate(lines) if l.startswith('extra '))
l = lines[i]
j = len(l) // 2
lines[i] = l[:j] + ('A' if l[j] != 'A' else 'B') + l[j + 1:]
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(lines))
PY
check "verify: a tampered copy exits 1" status_is 1 "$TQ" verify "$WORK/tampered.tlog-proof" --key "$VKEY"
check "verify: the refusal names the block" bash -c "'$TQ' verify '$WORK/tampered.tlog-proof' --key '$VKEY' 2>&1 | grep -q 'block 1: leaf'"
check "verify: another key exits 1" status_is 1 "$TQ" verify "$WORK/proof.tlog-proof" --key "$("$TQ" log show --json --home "$P" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["vkey"])' 2>/dev/null)"
check "verify: no key is a usage error" status_is 2 "$TQ" verify "$WORK/proof.tlog-proof"
check "verify: a malformed key is a usage error" status_is 2 "$TQ" verify "$WORK/proof.tlog-proof" --key nonsense
check "log proof to stdout verifies from stdin" bash -c "'$TQ' log proof $PID --partner damascus --home '$H' 2>/dev/null | '$TQ' verify - --key '$VKEY' >/dev/null"
check "log proof: never released to that partner exits 1" status_is 1 "$TQ" log proof "$PID" --partner amman --home "$H"
check "log proof: --partner is required" status_is 2 "$TQ" log proof "$PID" --home "$H"
check "log alarms: none" bash -c "'$TQ' log alarms --home '$H' | grep -q '^no alarms'"
check "log alarms --json" bash -c "'$TQ' log alarms --json --home '$H' | python3 -c 'import json,sys; assert json.load(sys.stdin) == []'"
check "verify --help" bash -c "'$TQ' verify --help | grep -q usage"

# store copy: the node's store into a new SQLite file. A copy of the home running on it has the
# same log (size, root, checkpoints), its proofs verify with the same key, the log it serves
# passes the independent tlogcheck against the checkpoint signed before the copy, and it grows
# on from there.
"$TQ" log checkpoint --home "$H" >"$WORK/before.checkpoint" 2>/dev/null
"$TQ" log show --json --home "$H" >"$WORK/before.json" 2>/dev/null
check "store copy --to a new file prints the line to set" bash -c "cd '$WORK' && '$TQ' store copy --to copy.db --home '$H' | grep -qx '  store = $WORK/copy.db'"
check "store copy --json: every table, the log's size and root" bash -c "'$TQ' store copy --json --to '$WORK/copy2.db' --home '$H' | python3 -c 'import json,sys; d=json.load(sys.stdin); b=json.load(open(\"$WORK/before.json\")); assert d[\"tables\"] == len(d[\"counts\"]) == 30 and d[\"rows\"] == sum(d[\"counts\"].values()) and d[\"counts\"][\"audit_checkpoints\"] >= 1, d; assert (d[\"log_size\"], d[\"log_root\"]) == (b[\"size\"], b[\"root\"]), (d, b)'"
check "store copy refuses a destination that holds rows" status_is 3 "$TQ" store copy --to "$WORK/copy.db" --home "$H"
check "the refusal says why" bash -c "'$TQ' store copy --to '$WORK/copy.db' --home '$H' 2>&1 | grep -q 'destination is not empty'"
check "store copy: --to is required" status_is 2 "$TQ" store copy --home "$H"
H2=$WORK/home-copy
cp -a "$H" "$H2"
rm -f "$H2"/store.db*
if "$TQ" --help-config | grep -qE '^  store '; then
  echo "store = $WORK/copy.db" >>"$H2/tansiq.conf" # the home runs on the copy where it is
else
  cp "$WORK/copy.db" "$H2/store.db" # no store setting yet: the copy takes the store's place
fi
check "the copy's log: same size, root and checkpoint" bash -c "'$TQ' log show --json --home '$H2' | python3 -c 'import json,sys; d=json.load(sys.stdin); b=json.load(open(\"$WORK/before.json\")); k=[\"origin\",\"vkey\",\"size\",\"root\",\"checkpoint\"]; assert [d[x] for x in k] == [b[x] for x in k], (d, b)'"
check "a proof from the copy verifies with the same key" bash -c "'$TQ' log proof $PID --partner damascus --home '$H2' 2>/dev/null | '$TQ' verify - --key '$VKEY' >/dev/null"
TLOGCHECK=${TLOGCHECK:-$(cd .. && pwd)/shared/tools/tlogcheck.py}
if [[ -f $TLOGCHECK ]] && python3 -c 'import cryptography' 2>/dev/null; then
  serve_start "$TQ" "$H2" "$WORK/serve"
  check "the copy serves its log (tlogcheck, --old: the checkpoint signed before the copy)" python3 "$TLOGCHECK" "${URL%/taxii2/}/log/" "$VKEY" --old "$WORK/before.checkpoint"
  serve_stop
else
  skipped=$((skipped + 1))
  echo "skip tlogcheck of the copy: no $TLOGCHECK or no python3 cryptography"
fi
cat >"$WORK/after-copy.json" <<'J'
[{"type":"identity","spec_version":"2.1","id":"identity--0d0c7f3a-7b2e-4a57-9c1e-5a3f2b1c0d9e",
  "created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z","name":"After the copy",
  "identity_class":"organization"}]
J
check "the node on the copy stores and signs on" bash -c "'$TQ' import --home '$H2' '$WORK/after-copy.json' | grep -qx 'stored 1, already present 0, rejected 0' && '$TQ' log checkpoint --home '$H2' >/dev/null && '$TQ' log show --json --home '$H2' | python3 -c 'import json,sys; d=json.load(sys.stdin); b=json.load(open(\"$WORK/before.json\")); assert d[\"size\"] > b[\"size\"], (d, b)'"

# the command table: every subcommand in its family's --help; --NAME VALUE as well as --NAME=VALUE
for fam in "user add grant token remove list" "collection add list policy" \
  "partner add set list show grant remove" "group add remove member list show" \
  "log show checkpoint proof alarms witnessed receipts" "store copy"; do
  read -r f subs <<<"$fam"
  for sub in $subs; do
    check "$f --help lists $sub" bash -c "'$TQ' $f --help | grep -qE '^(usage: | +)tansiq $f $sub'"
  done
done
check "user add --read COLL (space-separated value)" bash -c "echo 'pw two' | '$TQ' user add carol --password-stdin --read shared --write border --home '$H'"
check "unknown subcommand is a usage error" status_is 2 "$TQ" partner frobnicate x --home "$H"

# partner onboarding in one step each way: identity --export, partner add --from
check "identity --export writes a signed bundle" "$TQ" identity --export "$WORK/p.bundle" --url https://127.0.0.1:9 --home "$P"
check "the bundle holds certificate, keys, identity, title and URL" python3 - "$WORK/p.bundle" <<'PY2'
import json, sys
b = json.load(open(sys.argv[1]))
assert b["type"] == "tansiq-partner-bundle" and b["title"] == "partner node", b
assert b["url"] == "https://127.0.0.1:9" and b["stix_identity"].startswith("identity--")
assert b["cert_pem"].startswith("-----BEGIN CERTIFICATE") and len(b["cert_sha256"]) == 64
assert b["log_vkey"] and b["witness_vkey"] and b["sign_pubkey"] and b["signature"]
PY2
"$TQ" partner show damascus --json --home "$H" >"$WORK/flag-form.json" 2>/dev/null
check "the flag form's partner is removed" "$TQ" partner remove damascus --home "$H"
PFP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cert_sha256"])' "$WORK/p.bundle" 2>/dev/null)
check "partner add --from prints the fingerprint to read aloud" bash -c "'$TQ' partner add damascus --from '$WORK/p.bundle' --home '$H' | grep -q 'certificate sha256 $PFP'"
check "partner add --from registers as the flag form does" bash -c "'$TQ' partner show damascus --json --home '$H' | python3 -c 'import json,sys; d=json.load(sys.stdin); e=json.load(open(\"$WORK/flag-form.json\")); k=[\"name\",\"url\",\"cert_sha256\",\"sign_pubkey\"]; assert [d[x] for x in k] == [e[x] for x in k], (d, e)'"
python3 - "$WORK/p.bundle" "$WORK/tampered.bundle" <<'PY2'
import json, sys
b = json.load(open(sys.argv[1]))
b["url"] = "https://evil.example:443"
json.dump(b, open(sys.argv[2], "w"))
PY2
check "partner add --from refuses a changed bundle" status_is 2 "$TQ" partner add evil --from "$WORK/tampered.bundle" --home "$H"
check "the refusal says the signature does not verify" bash -c "'$TQ' partner add evil --from '$WORK/tampered.bundle' --home '$H' 2>&1 | grep -q 'signature does not verify'"
# A title or URL that would print a line of its own (a forged fingerprint) is refused before
# anything is shown, whoever signed the bundle; a NUL or a C1 escape likewise.
for bad in 'x\ncertificate sha256 00' 'x\u001b[2K' 'x\u0000y' 'x\u009bA'; do
  python3 - "$WORK/p.bundle" "$WORK/ctl.bundle" "$bad" <<'PY2'
import json, sys
b = json.load(open(sys.argv[1]))
b["title"] = json.loads('"' + sys.argv[3] + '"')
json.dump(b, open(sys.argv[2], "w"))
PY2
  check "partner add --from refuses a title with a control character ($bad)" bash -c "'$TQ' partner add evil --from '$WORK/ctl.bundle' --home '$H' 2>&1 | grep -q 'control character'"
done
check "partner add --from refuses --cert with it" status_is 2 "$TQ" partner add evil --from "$WORK/p.bundle" --cert "$WORK/p.pem" --home "$H"
check "partner set --url changes the URL" bash -c "'$TQ' partner set damascus --url https://127.0.0.1:10 --home '$H' && '$TQ' partner list --home '$H' | grep -q '^damascus  *https://127.0.0.1:10 '"
check "partner set --url: unknown partner" status_is 3 "$TQ" partner set nobody --url https://x --home "$H"
# the other way: the partner node registers this one from this node's bundle, with no URL yet
check "identity --export without a URL" "$TQ" identity --export "$WORK/h.bundle" --home "$H"
check "partner add --from on the partner's node" bash -c "'$TQ' partner add baghdad --from '$WORK/h.bundle' --home '$P' | grep -q 'certificate sha256'"
check "no URL until it is set" bash -c "'$TQ' partner list --home '$P' | grep -q '^baghdad  *- '"
check "partner set --url on the partner's node" bash -c "'$TQ' partner set baghdad --url https://127.0.0.1:11 --home '$P' && '$TQ' partner show baghdad --json --home '$P' | grep -q '\"url\":\"https://127.0.0.1:11\"'"
check "identity --export takes the URL from the 'url' setting" bash -c "echo 'url = https://node.example:8443' >> '$P/tansiq.conf' && '$TQ' identity --export - --home '$P' | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"url\"] == \"https://node.example:8443\"'"
for root in json events log; do
  check "serve refuses the api root '$root', one of the node's own routes" bash -c "TANSIQ_API_ROOT=$root timeout 20 '$TQ' serve --home '$H' --listen 127.0.0.1:0 2>&1 | grep -q 'taken by the node'"
done

echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
