#!/usr/bin/env bash
# scripts/bench-compare.sh [REF] - import, TAXII GET and the policy filter, this tree against REF
# (default HEAD~1) in the same run, alternating A B A B so that a noisy machine weighs on both.
# REF is built in a temporary worktree, removed at the end. Prints each figure line prefixed
# with the build it came from; compare like with like (ratios are measured within one run).
set -uo pipefail
REF=${1:-HEAD~1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export TANSIQ_TESTDATA=${TANSIQ_TESTDATA:-$(cd .. && pwd)/shared/data}
export BENCH_SECONDS=${BENCH_SECONDS:-5}
BASE=$(mktemp -d /tmp/tq-base-XXXXXX)
rmdir "$BASE"
cleanup() { git worktree remove --force "$BASE" >/dev/null 2>&1; }
trap cleanup EXIT
git worktree add -q --detach "$BASE" "$REF" || exit 1
make -C "$BASE" -j2 all >/dev/null 2>&1 || { echo "bench-compare: $REF does not build"; exit 1; }
make -j2 all >/dev/null 2>&1 || { echo "bench-compare: this tree does not build"; exit 1; }
label_this="this tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'))"
label_base="$REF ($(git -C "$BASE" rev-parse --short HEAD))"
run() { # $1 directory, $2 label
  local d=$1 l=$2
  (cd "$d" && ./build/bench/bench_import 2>&1 | grep -E '^import|^store alone' | sed "s|^|[$l] |")
  (cd "$d" && ./build/bench/bench_policy 2>&1 | grep -E '^policy filter' | sed "s|^|[$l] |")
  (cd "$d" && bench/bench_taxii.sh build 2>&1 | grep -E '^taxii GET|^https 64' | sed "s|^|[$l] |")
}
for round in 1 2; do
  echo "== round $round"
  run "$BASE" "$label_base"
  run "$ROOT" "$label_this"
done
