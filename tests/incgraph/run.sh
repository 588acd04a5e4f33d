#!/usr/bin/env bash
# tests/incgraph/run.sh - the include-graph checker (tools/incgraph.sh) passes on this tree and
# fails on a scratch copy of it into which one forbidden include has been planted: upward,
# across one rank, from an unranked module, through an unmapped public header, or from the
# CLI into an internal header. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
here=$(pwd)
check=$here/tools/incgraph.sh
passed=0
failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

ok() {
  echo "ok   $1"
  passed=$((passed + 1))
}
ko() {
  echo "FAIL $1"
  if [[ -n ${2:-} ]]; then
    while IFS= read -r l; do echo "     $l"; done <<<"$2"
  fi
  failed=$((failed + 1))
}

# A fresh copy of the tree's sources and public headers.
fresh() {
  rm -rf "$scratch/tree"
  mkdir -p "$scratch/tree"
  cp -r src include "$scratch/tree/"
}

# expect_fail NAME PATTERN: the checker must exit non-zero on the scratch tree and say PATTERN.
expect_fail() {
  local out rc
  out=$("$check" "$scratch/tree" 2>&1)
  rc=$?
  if ((rc != 0)) && grep -q -- "$2" <<<"$out"; then
    ok "$1"
  else
    ko "$1 (exit $rc, expected a failure naming: $2)" "$out"
  fi
}

expect_pass() {
  local out
  if out=$("$check" "$scratch/tree" 2>&1); then
    ok "$1"
  else
    ko "$1" "$out"
  fi
}

# Insert an include line after the first line of a file.
plant() {
  sed -i "1a #include \"$2\"" "$scratch/tree/$1"
}

if out=$("$check" 2>&1); then
  ok "the tree itself passes"
else
  ko "the tree itself passes" "$out"
fi

# case_of NAME pass|fail PATTERN [FILE INCLUDE]...: plant each include in a fresh copy, then
# expect the checker to pass, or to fail with a message holding PATTERN.
case_of() {
  local name=$1 expect=$2 pattern=$3
  shift 3
  fresh
  while (($# >= 2)); do
    plant "$1" "$2"
    shift 2
  done
  if [[ $expect == pass ]]; then
    expect_pass "$name"
  else
    expect_fail "$name" "$pattern"
  fi
}

case_of "an untouched copy passes" pass ""
case_of "tlog including audit (upward) fails" fail \
  "tlog (rank 1) must not depend on audit (rank 3)" src/tlog/merkle.c tansiq/audit.h
case_of "store including an internal header of audit (upward) fails" fail \
  "store (rank 2) must not depend on audit" src/store/store.c audit/audit.h
case_of "core including stix (upward) fails" fail "core (rank 0) must not depend on stix" \
  src/core/str.c tansiq/json.h src/core/buf.c tansiq/stix.h
case_of "a public tlog header including store (upward) fails" fail \
  "include/tansiq/merkle.h: tlog (rank 1) must not depend on store" \
  include/tansiq/merkle.h tansiq/store.h
case_of "stix including tlog (same rank) fails" fail "stix and tlog share rank 1" \
  src/stix/rules.c tansiq/note.h
case_of "audit including store and tlog (downward) passes" pass "" \
  src/audit/log.c tansiq/store.h src/audit/log.c tansiq/tlog.h
case_of "the CLI including an internal header fails" fail "the CLI uses include/tansiq/ only" \
  src/cli/main.c store/store.h
case_of "an include that names no module fails" fail "names no module" src/sync/tiles.c sync.h

# New files: a public header (leaf.h is tlog's, mystery.h is nobody's) and an unranked module.
fresh
printf '#include "tansiq/core.h"\n' >"$scratch/tree/include/tansiq/leaf.h"
plant src/store/store.c tansiq/leaf.h
expect_pass "leaf.h is tlog's: store may include it"
printf '#include "tansiq/core.h"\n' >"$scratch/tree/include/tansiq/mystery.h"
expect_fail "a public header without a module fails" \
  "include/tansiq/mystery.h: public header without a module"
plant src/http/log.c tansiq/mystery.h
expect_fail "including an unmapped public header fails" \
  "includes tansiq/mystery.h, a public header without a module"
fresh
mkdir -p "$scratch/tree/src/newmod"
printf '#include "tansiq/core.h"\n' >"$scratch/tree/src/newmod/newmod.c"
expect_fail "a module without a rank fails" "module 'newmod' has no rank"

echo "$passed passed, $failed failed"
((failed == 0))
