#!/usr/bin/env bash
# checksrc: what clang-format cannot check. Fails on banned calls, raw allocation outside
# src/core/alloc.c, printf-family output outside src/cli/, and assignments inside if/while
# conditions. Prints file:line: reason for each finding.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
report() { echo "$1: $2"; status=1; }

while IFS= read -r f; do
  while IFS=: read -r line _; do
    report "$f:$line" "banned call (sprintf/strcpy/strcat/strtok/atoi/gets)"
  done < <(grep -nE '(^|[^_a-z])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|gets)\(' "$f")
  if [[ $f != src/core/alloc.c ]]; then
    while IFS=: read -r line _; do
      report "$f:$line" "raw allocation: use tq_xmalloc/tq_free or struct tq_buf"
    done < <(grep -nE '(^|[^_a-z.>])(malloc|calloc|realloc|free|strdup|strndup)\(' "$f")
  fi
  if [[ $f != src/cli/* ]]; then
    while IFS=: read -r line _; do
      report "$f:$line" "output to stdout outside src/cli"
    done < <(grep -nE '(^|[^_a-z])(printf|puts|putchar)\(|fprintf\(stdout' "$f")
  fi
  while IFS=: read -r line _; do
    report "$f:$line" "assignment inside a condition"
  done < <(grep -nE '\b(if|while) \(\(?[A-Za-z_][A-Za-z0-9_>.-]* = [^=]' "$f")
done < <(git ls-files 'src/*.c' 'src/*.h' 'include/*.h')
exit $status
