#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/integration/logprocs.sh TANSIQ WORK - the audit log served at /log/ stays provable when
# other processes write to the same home, as the README runs them: `tansiq serve` beside
# `tansiq import`, `tansiq log checkpoint` and `tansiq sync`.
#
# One node: a checkpoint signed by `tansiq log checkpoint` (before the server ever signed one,
# and again after it did, over leaves another process imported) must be served at once with
# every tile it needs. Two nodes, baghdad and damascus, each serving and each running `tansiq
# sync` against the other, both ways, twice: each served checkpoint, signed by the sync process
# and cosigned by the partner, is checked from its tiles, and every sync must witness without
# warnings (a sync reads the partner's tiles). Each check fetches /log/checkpoint, then every
# hash tile of every level and every entry bundle that size needs, and recomputes the root;
# tlogcheck.py (the independent client) checks the signature, the root and cosignatures too
# when python3-cryptography is there. Prints "ok ..." / "FAIL ..." / "skip ..." lines and
# "logprocs: done" (or "FAIL logprocs: did not finish").
set -uo pipefail
TANSIQ=$1
W=$2
HERE=$(cd "$(dirname "$0")" && pwd)
TLOGCHECK=${TLOGCHECK:-$HERE/../../../shared/tools/tlogcheck.py}
# shellcheck source=tests/lib/store.sh
. "$HERE/../lib/store.sh"
mkdir -p "$W"
pids=()
finished=0

cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  ((finished)) || echo "FAIL logprocs: did not finish"
}
trap cleanup EXIT

ok() { echo "ok   logprocs: $1"; }
bad() { echo "FAIL logprocs: $1${2:+: $2}"; }
q() { "$TANSIQ" "$@" >"$W/cmd.out" 2>"$W/cmd.err"; }
have_crypto=0
python3 -c 'import cryptography' 2>/dev/null && [[ -f $TLOGCHECK ]] && have_crypto=1
((have_crypto)) || echo "note: no python3-cryptography or no $TLOGCHECK: tiles checked, signatures not"

# Every tile a tlog client may need for the served checkpoint, fetched right after it: hash
# tiles of every level, entry bundles, the root recomputed from level 0, each higher level
# compared with the subtree hashes of level 0, each leaf hash with its commitment. Prints the
# size; exit 1 with the first failure.
cat >"$W/tiles.py" <<'EOF'
import base64, hashlib, ssl, sys, urllib.error, urllib.request

ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
prefix = sys.argv[1].rstrip("/") + "/"


def get(path):
    try:
        with urllib.request.urlopen(prefix + path, context=ctx, timeout=30) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{path}: {e.code} {e.read().decode(errors='replace').strip()}")


def tile_path(n):
    parts = []
    while True:
        parts.insert(0, f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    return "/".join(["x" + p for p in parts[:-1]] + [parts[-1]])


def mth(h):
    if len(h) == 0:
        return hashlib.sha256(b"").digest()
    if len(h) == 1:
        return h[0]
    k = 1
    while k * 2 < len(h):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(h[:k]) + mth(h[k:])).digest()


note = get("checkpoint").decode()
lines = note.split("\n")
size, root = int(lines[1]), base64.b64decode(lines[2])
if len(sys.argv) > 2:
    open(sys.argv[2], "w").write(note)
fetched = 0
levels = []  # levels[L] = the hashes of tree level 8L, from the tiles
L = 0
while True:
    n = size >> (8 * L)  # hashes at this level
    if n == 0:
        break
    hashes = []
    for t in range((n + 255) // 256):
        w = min(256, n - 256 * t)
        data = get(f"tile/{L}/{tile_path(t)}" + ("" if w == 256 else f".p/{w}"))
        fetched += 1
        if len(data) != 32 * w:
            raise SystemExit(f"tile/{L}/{t}: {len(data)} bytes, want {32 * w}")
        hashes += [data[i:i + 32] for i in range(0, len(data), 32)]
    levels.append(hashes)
    L += 1
leaves = levels[0] if levels else []
if mth(leaves) != root:
    raise SystemExit(f"root recomputed from the tiles of size {size} differs from the checkpoint's")
for L in range(1, len(levels)):
    span = 256 ** L
    for i, h in enumerate(levels[L]):
        if mth(leaves[i * span:(i + 1) * span]) != h:
            raise SystemExit(f"level {L} tile hash {i} is not the hash of its leaves")
for t in range((size + 255) // 256):
    w = min(256, size - 256 * t)
    data = get(f"tile/entries/{tile_path(t)}" + ("" if w == 256 else f".p/{w}"))
    fetched += 1
    if len(data) != 34 * w:
        raise SystemExit(f"entry bundle {t}: {len(data)} bytes, want {34 * w}")
    for i in range(w):
        e = data[34 * i:34 * (i + 1)]
        if e[:2] != b"\x00\x20" or hashlib.sha256(b"\x00" + e[2:]).digest() != leaves[256 * t + i]:
            raise SystemExit(f"entry {256 * t + i} does not hash to its leaf")
print(size, fetched)
EOF

# settle PREFIX: fetch the checkpoint until two fetches more than the server's signing interval
# (1 s) apart agree. A server that answered reads since the latest checkpoint signs a newer one
# on a fetch, but not within a second of its last signature; so without this, the fetch of
# tiles.py may be served the cosigned checkpoint and the one of tlogcheck a newer one.
settle() {
  local prev= cur
  for _ in $(seq 1 10); do
    cur=$(curl -sk "${1}checkpoint")
    [[ -n $cur && $cur == "$prev" ]] && return 0
    prev=$cur
    sleep 1.2
  done
  return 1
}

# check NAME PREFIX [VKEY [WKEY [COSIGNED]]]: the served checkpoint and every tile it needs,
# then tlogcheck (with --witness WKEY when given; when COSIGNED is given too, the checkpoint is
# settled first and the witness asked for only if the served size is COSIGNED: a server that
# answered reads since signs a newer checkpoint of its own, which no partner cosigned yet).
# Leaves the size in $SIZE and the note in $W/served.checkpoint.
check() {
  local name=$1 prefix=$2 vkey=${3:-} wkey=${4:-} cosigned=${5:-} out
  SIZE=
  if [[ -n $cosigned ]] && ! settle "$prefix"; then
    bad "$name" "the served checkpoint did not settle"
    return 1
  fi
  if ! out=$(python3 "$W/tiles.py" "$prefix" "$W/served.checkpoint" 2>&1); then
    bad "$name" "$out"
    return 1
  fi
  SIZE=${out%% *}
  if [[ -n $cosigned && $SIZE != "$cosigned" ]]; then
    wkey=
    name+=" (the server signed $SIZE after the cosigned $cosigned)"
  fi
  if [[ -n $vkey ]] && ((have_crypto)); then
    local -a args=("$prefix" "$vkey")
    [[ -n $wkey ]] && args+=(--witness "$wkey")
    if ! out=$(python3 "$TLOGCHECK" "${args[@]}" 2>&1); then
      bad "$name" "$out"
      return 1
    fi
  fi
  ok "$name (size $SIZE, ${out#tlogcheck: })"
}

# start_serve HOME: `tansiq serve` on a kernel-chosen port; the base URL in $BASE.
start_serve() {
  local h=$1 url=
  "$TANSIQ" serve --home "$h" --listen 127.0.0.1:0 >"$h.serve.out" 2>"$h.serve.err" &
  pids+=($!)
  for _ in $(seq 1 100); do
    url=$(head -1 "$h.serve.out" 2>/dev/null)
    [[ -n $url ]] && break
    sleep 0.1
  done
  BASE=${url%/taxii2/}
  [[ -n $url ]]
}

# bundle FILE N TAG: N unmarked indicators.
bundle() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys, uuid
objs = [{"type": "indicator", "spec_version": "2.1", "id": "indicator--" + str(uuid.uuid4()),
         "created": "2024-03-04T05:06:07.000Z", "modified": "2024-03-04T05:06:07.000Z",
         "name": "%s %d" % (sys.argv[3], i),
         "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % (len(sys.argv[3]), i // 250, i % 250),
         "pattern_type": "stix", "valid_from": "2024-03-04T05:06:07Z"}
        for i in range(int(sys.argv[2]))]
json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objs},
          open(sys.argv[1], "w"))
EOF
}

vkey_of() {
  "$TANSIQ" log show --json --home "$1" 2>/dev/null |
    python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])" 2>/dev/null
}

# ---- one node: checkpoints signed by `tansiq log checkpoint` ---------------------------------
H=$W/node
if ! tq_init q init --home "$H" 2>"$W/init.err"; then
  bad "init" "$(cat "$W/init.err" "$W/cmd.err" 2>/dev/null)"
  finished=1
  exit 0
fi
VKEY=$(vkey_of "$H" vkey)
if ! start_serve "$H"; then
  bad "serve" "$(cat "$H.serve.err")"
  finished=1
  exit 0
fi
PREFIX=$BASE/log/

# The server has signed nothing yet; another process imports and signs.
bundle "$W/b1.json" 5 first
q import --home "$H" --collection shared "$W/b1.json" || bad "import 5" "$(cat "$W/cmd.err")"
if q log checkpoint --home "$H"; then
  CLI_SIZE=$(sed -n 2p "$W/cmd.out")
  if check "checkpoint of another process, before the server signed any" "$PREFIX" "$VKEY"; then
    if [[ $SIZE == "$CLI_SIZE" ]] && cmp -s "$W/cmd.out" "$W/served.checkpoint"; then
      ok "the server serves the note \`log checkpoint\` signed ($CLI_SIZE leaves)"
    else
      bad "served note" "served size $SIZE, \`log checkpoint\` signed $CLI_SIZE"
    fi
  fi
else
  bad "log checkpoint" "$(cat "$W/cmd.err")"
fi

# The server signs one of its own (the log grew: a leaf the server did not see yet), then,
# within its one-second window, another process imports 300 (past a full tile, so level 1 has
# a tile) and signs: the server must serve that one with all its tiles, not fall back to its own.
bundle "$W/b2.json" 1 second
q import --home "$H" --collection shared "$W/b2.json"
check "checkpoint signed by the server" "$PREFIX" "$VKEY"
OWN=$SIZE
bundle "$W/b3.json" 300 third
q import --home "$H" --collection shared "$W/b3.json" || bad "import 300" "$(cat "$W/cmd.err")"
if q log checkpoint --home "$H"; then
  CLI_SIZE=$(sed -n 2p "$W/cmd.out")
  if check "checkpoint of another process after the server's ($OWN)" "$PREFIX" "$VKEY" &&
    ((SIZE < CLI_SIZE)); then
    bad "served size" "$SIZE, below the $CLI_SIZE signed by \`log checkpoint\`"
  fi
else
  bad "log checkpoint" "$(cat "$W/cmd.err")"
fi
# A tile beyond the served checkpoint still answers 404.
code=$(curl -sk -o /dev/null -w '%{http_code}' "${PREFIX}tile/0/x001/000")
if [[ $code == 404 ]]; then ok "a tile beyond the checkpoint: 404"; else bad "tile beyond" "$code"; fi

# ---- two nodes, each syncing from the other beside its server --------------------------------
A=$W/baghdad
B=$W/damascus
for h in "$A" "$B"; do
  tq_init q init --home "$h" 2>"$W/init.err" || bad "init $h" "$(cat "$W/init.err" "$W/cmd.err" 2>/dev/null)"
  q collection add "Border incidents" --alias border --home "$h"
  q group add iq-sy --home "$h"
  q collection policy border --tlp green --audience group:iq-sy --home "$h"
  "$TANSIQ" identity --home "$h" --pem >"$h.pem" 2>/dev/null
  "$TANSIQ" identity --home "$h" --json >"$h.id" 2>/dev/null
done
start_serve "$A" || bad "serve baghdad" "$(cat "$A.serve.err")"
A_BASE=$BASE
start_serve "$B" || bad "serve damascus" "$(cat "$B.serve.err")"
B_BASE=$BASE
pubkey() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sign_pubkey"])' "$1"; }
# partner add h name url other
pair() {
  q partner add "$2" --url "$3" --cert "$4.pem" --key "$(pubkey "$4.id")" --home "$1" ||
    bad "partner add $2" "$(cat "$W/cmd.err")"
  q group member iq-sy "$2" --home "$1"
  q partner grant "$2" border --home "$1" || bad "partner grant $2" "$(cat "$W/cmd.err")"
}
pair "$A" damascus "$B_BASE" "$B"
pair "$B" baghdad "$A_BASE" "$A"
bundle "$W/ba.json" 3 baghdad
bundle "$W/bb.json" 4 damascusnode
q import --home "$A" --collection border "$W/ba.json" || bad "import baghdad" "$(cat "$W/cmd.err")"
q import --home "$B" --collection border "$W/bb.json" || bad "import damascus" "$(cat "$W/cmd.err")"
A_VKEY=$(vkey_of "$A" vkey)
A_WKEY=$(vkey_of "$A" wkey)
B_VKEY=$(vkey_of "$B" vkey)
B_WKEY=$(vkey_of "$B" wkey)

# sync_ok HOME PARTNER: `tansiq sync` witnessed both ways without a warning.
sync_ok() {
  if "$TANSIQ" sync "$2" --json --home "$1" >"$W/sync.json" 2>"$W/sync.err" &&
    python3 -c 'import json,sys
p = json.load(open(sys.argv[1]))["partners"][0]; w = p["witness"]
assert p["ok"] and w["alarms"] == 0, p
assert w["witnessed_size"] and w["cosigned_size"] is not None, w
assert not w["watch_warning"] and not w["ask_warning"], w' "$W/sync.json" 2>/dev/null; then
    ok "$3: sync $2 witnessed both ways"
  else
    bad "$3: sync $2" "$(head -c 700 "$W/sync.json") $(tail -3 "$W/sync.err")"
  fi
}

cosigned() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["partners"][0]["witness"]["cosigned_size"])' "$W/sync.json" 2>/dev/null; }
# In round 1 nobody has read damascus yet, so its server has nothing new: it must serve the very
# checkpoint its sync process signed, with baghdad's cosignature.
sync_ok "$B" baghdad "round 1, damascus"
check "round 1: damascus serves the checkpoint its sync signed, with baghdad's cosignature" \
  "$B_BASE/log/" "$B_VKEY" "$A_WKEY"
sync_ok "$A" damascus "round 1, baghdad"
check "round 1: baghdad's served checkpoint" "$A_BASE/log/" "$A_VKEY" "$B_WKEY" "$(cosigned)"
sync_ok "$B" baghdad "round 2, damascus"
check "round 2: damascus's served checkpoint" "$B_BASE/log/" "$B_VKEY" "$A_WKEY" "$(cosigned)"
sync_ok "$A" damascus "round 2, baghdad"
check "round 2: baghdad's served checkpoint" "$A_BASE/log/" "$A_VKEY" "$B_WKEY" "$(cosigned)"

for h in "$H" "$A" "$B"; do
  if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$h.serve.err"; then
    bad "clean server log $(basename "$h")" "$(grep -A5 -E 'Sanitizer|runtime error:' "$h.serve.err" | head -10)"
  fi
done
finished=1
echo "logprocs: done"
